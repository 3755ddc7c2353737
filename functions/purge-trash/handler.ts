/**
 * purge-trash: POST with pool, namespace, expiredOnly → 200 TrashPurge:
 * removes the images in the pool's trash for good, with their snapshots.
 * Images still deferred are skipped unless expiredOnly=false; images whose
 * snapshots clones need, or that are in use, are skipped with the reason.
 * Purging large images takes a while: call it asynchronously.
 */
import type { TrashEntry } from '../../shared/ceph/client';
import { CephError } from '../../shared/errors';
import type { FunctionContext, FunctionEvent } from '../../shared/runtime/context';
import { eventTypes } from '../../shared/runtime/event-types';
import { Params, checkPoolAllowed } from '../../shared/runtime/params';
import { logProgress } from '../../shared/runtime/progress';

export const methods = ['POST'] as const;

/** The parameters it takes, in the query string or the body; any other is refused (400). */
export const parameters = ['pool', 'namespace', 'expiredOnly'] as const;

/** As a CloudEvent: takes io.ceph.rbd.trash.purge, replies io.ceph.rbd.trash.purged (or io.ceph.rbd.error). */
export const events = eventTypes('trash.purge', 'trash.purged');

/** Trash sources a purge may remove; the others belong to librbd's own work in progress (as `rbd trash purge`). */
const PURGEABLE = new Set<TrashEntry['source']>(['user', 'user_parent']);

export default async function purgeTrash(event: FunctionEvent, context: FunctionContext) {
  const params = new Params(event);
  const pool = params.name('pool');
  const namespace = params.namespace();
  checkPoolAllowed(context.settings.allowedPools, pool);
  const expiredOnly = params.bool('expiredOnly', true);

  const ceph = await context.ceph();
  const now = Date.now();
  const purged: string[] = [];
  const skipped: { id: string; name: string; reason: string }[] = [];
  for (const entry of await ceph.listTrash(pool, namespace)) {
    const skip = (reason: string) => skipped.push({ id: entry.id, name: entry.name, reason });
    if (!PURGEABLE.has(entry.source)) {
      skip(`Moved to the trash by librbd itself (source "${entry.source}"), not by a user; it finishes or undoes that work itself.`);
      continue;
    }
    if (expiredOnly && entry.deferredUntil.getTime() > now) {
      skip(`Deferred until ${entry.deferredUntil.toISOString()}; send expiredOnly=false to purge it anyway.`);
      continue;
    }
    try {
      await ceph.removeTrash(pool, namespace, entry.id, {
        force: !expiredOnly,
        purgeSnapshots: true,
        onProgress: logProgress(context.log, 'purge', `${pool}/${entry.id}`),
      });
      purged.push(entry.id);
    } catch (err) {
      if (!(err instanceof CephError)) throw err;
      // Another purge got there first: not ours, and not there to skip.
      if (err.code === 'ENOENT') continue;
      skip(skipReason(err));
    }
  }
  if (purged.length > 0) context.changed();
  return { kind: 'TrashPurge', apiVersion: 'v1', purged, skipped };
}

function skipReason(err: CephError): string {
  if (err.code === 'ECHILD') {
    return `Snapshot "${err.snapshot ?? '?'}" has clones that depend on it; flatten or delete them first (the image and its snapshots were left as they were).`;
  }
  if (err.code === 'EBUSY') return 'In use (watchers or a lock held elsewhere); stop its clients first.';
  return `${err.message}`;
}
