/**
 * list-snapshots: GET|POST with pool, namespace, image → 200 SnapshotList of
 * the image's user snapshots, oldest first, each with its clone count.
 */
import { snapshotItem } from '../../shared/resources';
import type { FunctionContext, FunctionEvent } from '../../shared/runtime/context';
import { eventTypes } from '../../shared/runtime/event-types';
import { Params } from '../../shared/runtime/params';

export const methods = ['GET'] as const;

/** The parameters it takes, in the query string or the body; any other is refused (400). */
export const parameters = ['pool', 'namespace', 'image'] as const;

/** As a CloudEvent: takes io.ceph.rbd.snapshots.list, replies io.ceph.rbd.snapshots.listed (or io.ceph.rbd.error). */
export const events = eventTypes('snapshots.list', 'snapshots.listed');

export default async function listSnapshots(event: FunctionEvent, context: FunctionContext) {
  const spec = new Params(event).image('image', context.settings.allowedPools);
  const snapshots = await (await context.ceph()).listSnapshots(spec);
  return { kind: 'SnapshotList', apiVersion: 'v1', items: snapshots.map(snapshotItem) };
}
