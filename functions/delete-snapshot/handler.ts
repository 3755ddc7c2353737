/**
 * delete-snapshot: DELETE|POST with pool, namespace, image, snapshot,
 * unprotect → 200 Status Deleted. Missing → 404; clones depend on it → 409
 * HasChildren naming them; protected without unprotect=true → 409 Protected.
 * Nothing is removed in those cases.
 */
import type { CephClient, ImageSpec } from '../../shared/ceph/client';
import { CephError } from '../../shared/errors';
import { imagePath, snapshotPath, snapshotScope } from '../../shared/resources';
import type { FunctionContext, FunctionEvent } from '../../shared/runtime/context';
import { eventTypes } from '../../shared/runtime/event-types';
import { snapshotNotFound, snapshotOf } from '../../shared/runtime/lookup';
import { Params } from '../../shared/runtime/params';
import { SingleFlight } from '../../shared/runtime/single-flight';
import { HttpError, success } from '../../shared/runtime/status';

export const methods = ['DELETE'] as const;

/** The parameters it takes, in the query string or the body; any other is refused (400). */
export const parameters = ['pool', 'namespace', 'image', 'snapshot', 'unprotect'] as const;

/** As a CloudEvent: takes io.ceph.rbd.snapshot.delete, replies io.ceph.rbd.snapshot.deleted (or io.ceph.rbd.error). */
export const events = eventTypes('snapshot.delete', 'snapshot.deleted');

/** Deletes of one snapshot in flight here: the first does the work, the others answer 404 after it. */
const deletes = new SingleFlight<void>();

export default async function deleteSnapshot(event: FunctionEvent, context: FunctionContext) {
  const params = new Params(event);
  const spec = params.image('image', context.settings.allowedPools);
  const snapshot = params.name('snapshot');
  const unprotect = params.bool('unprotect');

  const ceph = await context.ceph();
  const key = JSON.stringify([spec.pool, spec.namespace, spec.name, snapshot]);
  const { joined } = await deletes.run(key, () => remove(ceph, spec, snapshot, unprotect));
  if (joined) throw new HttpError(404, 'NotFound', `Snapshot "${snapshotPath(spec, snapshot)}" was deleted by a concurrent request.`, snapshotScope(spec, snapshot));
  context.changed();
  return success('Deleted', snapshotScope(spec, snapshot));
}

async function remove(ceph: CephClient, spec: Required<ImageSpec>, snapshot: string, unprotect: boolean): Promise<void> {
  const info = await snapshotOf(ceph, spec, snapshot);
  if (info.children > 0) throw await hasChildren(ceph, spec, snapshot);
  if (info.protected && !unprotect) {
    throw new HttpError(
      409,
      'Protected',
      `Snapshot "${snapshotPath(spec, snapshot)}" is protected. Send unprotect=true to unprotect and delete it.`,
      snapshotScope(spec, snapshot),
    );
  }
  try {
    await ceph.removeSnapshot(spec, snapshot, { unprotect });
  } catch (err) {
    if (!(err instanceof CephError)) throw err;
    if (err.code === 'ENOENT') throw snapshotNotFound(spec, snapshot);
    // A clone made since the check (v1 clones keep the snapshot protected and busy).
    if (err.code === 'EBUSY') {
      const stillBusy = await hasChildren(ceph, spec, snapshot);
      if ((stillBusy.details?.children as string[]).length > 0) throw stillBusy;
    }
    throw err;
  }
}

async function hasChildren(ceph: CephClient, spec: Required<ImageSpec>, snapshot: string): Promise<HttpError> {
  const children = (await ceph.listChildren(spec, snapshot)).map((c) => `${imagePath(c)}${c.trash ? ' (in the trash)' : ''}`);
  return new HttpError(
    409,
    'HasChildren',
    `Snapshot "${snapshotPath(spec, snapshot)}" has clones that depend on it: ${children.join(', ')}. Flatten them (flatten-image) or delete them first.`,
    { ...snapshotScope(spec, snapshot), children },
  );
}
