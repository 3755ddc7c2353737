/**
 * rollback-image: POST with pool, namespace, name, snapshot → 200 Image as
 * restored, size included. Watchers → 409 InUse (a mapped filesystem must
 * not have its blocks rewritten under it); a missing snapshot → 404.
 * Rolling back a large image takes a while: call it asynchronously.
 */
import { CephError } from '../../shared/errors';
import { imageDetailResource, snapshotPath } from '../../shared/resources';
import { inUse } from '../../shared/runtime/conflicts';
import type { FunctionContext, FunctionEvent } from '../../shared/runtime/context';
import { eventTypes } from '../../shared/runtime/event-types';
import { snapshotNotFound } from '../../shared/runtime/lookup';
import { Params } from '../../shared/runtime/params';
import { logProgress } from '../../shared/runtime/progress';

export const methods = ['POST'] as const;

/** The parameters it takes, in the query string or the body; any other is refused (400). */
export const parameters = ['pool', 'namespace', 'name', 'snapshot'] as const;

/** As a CloudEvent: takes io.ceph.rbd.image.rollback, replies io.ceph.rbd.image.rolledback (or io.ceph.rbd.error). */
export const events = eventTypes('image.rollback', 'image.rolledback');

export default async function rollbackImage(event: FunctionEvent, context: FunctionContext) {
  const params = new Params(event);
  const spec = params.image('name', context.settings.allowedPools);
  const snapshot = params.name('snapshot');

  const ceph = await context.ceph();
  let result;
  try {
    result = await ceph.rollbackImage(spec, snapshot, { onProgress: logProgress(context.log, 'rollback', snapshotPath(spec, snapshot)) });
  } catch (err) {
    if (err instanceof CephError && err.code === 'ENOENT' && err.op === 'rbd_snap_exists') throw snapshotNotFound(spec, snapshot);
    throw err;
  }
  const { rolledBack, image } = result;
  if (!rolledBack) throw inUse(spec, image.watchers.map((w) => w.address), "can't be rolled back while it is in use");
  context.changed();
  return imageDetailResource(image);
}
