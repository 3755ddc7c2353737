/**
 * list-trash: GET|POST with pool, namespace → 200 TrashList of the images in
 * the pool's trash, oldest deletion first, with when each may be purged.
 */
import { trashItem } from '../../shared/resources';
import type { FunctionContext, FunctionEvent } from '../../shared/runtime/context';
import { eventTypes } from '../../shared/runtime/event-types';
import { Params, checkPoolAllowed } from '../../shared/runtime/params';

export const methods = ['GET'] as const;

/** The parameters it takes, in the query string or the body; any other is refused (400). */
export const parameters = ['pool', 'namespace'] as const;

/** As a CloudEvent: takes io.ceph.rbd.trash.list, replies io.ceph.rbd.trash.listed (or io.ceph.rbd.error). */
export const events = eventTypes('trash.list', 'trash.listed');

export default async function listTrash(event: FunctionEvent, context: FunctionContext) {
  const params = new Params(event);
  const pool = params.name('pool');
  const namespace = params.namespace();
  checkPoolAllowed(context.settings.allowedPools, pool);
  const entries = await (await context.ceph()).listTrash(pool, namespace);
  entries.sort((a, b) => a.deletedAt.getTime() - b.deletedAt.getTime() || (a.id < b.id ? -1 : 1));
  return { kind: 'TrashList', apiVersion: 'v1', items: entries.map(trashItem) };
}
