/**
 * create-snapshot: POST with pool, namespace, image, snapshot, protect →
 * 201 Snapshot. Idempotent: the name again → 200 with the snapshot, which
 * protect=true then protects if it was not (protect=false never unprotects).
 */
import type { CephClient, ImageSpec } from '../../shared/ceph/client';
import { CephError } from '../../shared/errors';
import { snapshotResource } from '../../shared/resources';
import type { FunctionContext, FunctionEvent } from '../../shared/runtime/context';
import { eventTypes } from '../../shared/runtime/event-types';
import { snapshotOf } from '../../shared/runtime/lookup';
import { Params } from '../../shared/runtime/params';
import { SingleFlight } from '../../shared/runtime/single-flight';

export const methods = ['POST'] as const;

/** The parameters it takes, in the query string or the body; any other is refused (400). */
export const parameters = ['pool', 'namespace', 'image', 'snapshot', 'protect'] as const;

/** As a CloudEvent: takes io.ceph.rbd.snapshot.create, replies io.ceph.rbd.snapshot.created (or io.ceph.rbd.error). */
export const events = eventTypes('snapshot.create', 'snapshot.created');

/** Identical creates in flight in this process share one call; the joiners answer 200. */
const creates = new SingleFlight<boolean>();

export default async function createSnapshot(event: FunctionEvent, context: FunctionContext) {
  const params = new Params(event);
  const spec = params.image('image', context.settings.allowedPools);
  const snapshot = params.name('snapshot');
  const protect = params.bool('protect');

  const ceph = await context.ceph();
  const key = JSON.stringify([spec.pool, spec.namespace, spec.name, snapshot, protect]);
  const { value: changed, joined } = await creates.run(key, () => create(ceph, spec, snapshot, protect));
  const created = changed && !joined;
  if (created) context.changed();
  const info = await snapshotOf(ceph, spec, snapshot);
  return context.status(created ? 201 : 200).succeed(snapshotResource(spec, info));
}

/** True when it made the snapshot, false when one of that name was there. */
async function create(ceph: CephClient, spec: Required<ImageSpec>, snapshot: string, protect: boolean): Promise<boolean> {
  let created = true;
  try {
    await ceph.createSnapshot(spec, snapshot);
  } catch (err) {
    if (!(err instanceof CephError && err.code === 'EEXIST')) throw err;
    created = false;
  }
  if (protect && (created || !(await snapshotOf(ceph, spec, snapshot)).protected)) {
    try {
      await ceph.protectSnapshot(spec, snapshot);
    } catch (err) {
      // Another process protected it meanwhile: the state asked for.
      if (!(err instanceof CephError && err.code === 'EBUSY')) throw err;
    }
  }
  return created;
}
