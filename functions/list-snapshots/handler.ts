/**
 * list-snapshots: GET|POST with pool, namespace, image → 200 SnapshotList of
 * the image's user snapshots, oldest first, each with its clone count.
 */
import { snapshotItem } from '../../shared/resources';
import type { FunctionContext, FunctionEvent } from '../../shared/runtime/context';
import { Params } from '../../shared/runtime/params';

export const methods = ['GET'] as const;

/** The parameters it takes, in the query string or the body; any other is refused (400). */
export const parameters = ['pool', 'namespace', 'image'] as const;

/** As a CloudEvent: takes rbd.snapshots.list, replies rbd.snapshots.listed (or rbd.error). */
export const events = { accepts: 'rbd.snapshots.list', replies: 'rbd.snapshots.listed' };

export default async function listSnapshots(event: FunctionEvent, context: FunctionContext) {
  const spec = new Params(event).image('image', context.settings.allowedPools);
  const snapshots = await (await context.ceph()).listSnapshots(spec);
  return { kind: 'SnapshotList', apiVersion: 'v1', items: snapshots.map(snapshotItem) };
}
