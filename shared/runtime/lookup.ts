/** Looks up what a function acts on, with a 404 that names it when it is missing. */
import type { CephClient, ImageSpec, SnapshotInfo } from '../ceph/client';
import { snapshotPath, snapshotScope } from '../resources';
import { HttpError } from './status';

/** The user snapshot of that name; 404 when the image has none (the image's own 404 when it is missing). */
export async function snapshotOf(ceph: CephClient, spec: Required<ImageSpec>, snapshot: string): Promise<SnapshotInfo> {
  const found = (await ceph.listSnapshots(spec)).find((s) => s.name === snapshot);
  if (!found) throw snapshotNotFound(spec, snapshot);
  return found;
}

export function snapshotNotFound(spec: Required<ImageSpec>, snapshot: string): HttpError {
  return new HttpError(404, 'NotFound', `Snapshot "${snapshotPath(spec, snapshot)}" does not exist; list-snapshots shows the image's snapshots.`, snapshotScope(spec, snapshot));
}
