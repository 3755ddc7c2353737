/** The JSON shapes the functions answer with. */
import type { ImageDescription, ImageInfo, ImageSpec, ParentRef, SnapshotInfo, TrashEntry } from './ceph/client';

export interface ImageResource {
  kind: 'Image';
  apiVersion: 'v1';
  pool: string;
  namespace: string;
  name: string;
  id: string;
  size: number;
  objectSize: number;
  features: string[];
  createdAt: string;
}

/** An image with what changes after creation: list-images' detail items, get-image and the lifecycle functions. */
export interface ImageDetailResource extends ImageResource {
  snapshots: number;
  watchers: string[];
  parent: ParentRef | null;
  dataPool: string | null;
  stripeUnit: number;
  stripeCount: number;
}

export interface SnapshotResource {
  kind: 'Snapshot';
  apiVersion: 'v1';
  pool: string;
  namespace: string;
  image: string;
  name: string;
  id: number;
  size: number;
  createdAt: string;
  protected: boolean;
}

/** From createImageDescribed's answer or statImage's: both carry every field used here. */
export function imageResource(info: ImageDescription): ImageResource {
  return {
    kind: 'Image',
    apiVersion: 'v1',
    pool: info.pool,
    namespace: info.namespace,
    name: info.name,
    id: info.id,
    size: info.size,
    objectSize: info.objectSize,
    features: info.features,
    createdAt: info.createdAt.toISOString(),
  };
}

export function imageDetailResource(info: ImageInfo): ImageDetailResource {
  return {
    ...imageResource(info),
    snapshots: info.snapshotCount,
    watchers: info.watchers.map((w) => w.address),
    parent: info.parent,
    dataPool: info.dataPool,
    stripeUnit: info.stripeUnit,
    stripeCount: info.stripeCount,
  };
}

export function snapshotResource(spec: Required<ImageSpec>, snapshot: SnapshotInfo): SnapshotResource {
  return {
    kind: 'Snapshot',
    apiVersion: 'v1',
    pool: spec.pool,
    namespace: spec.namespace,
    image: spec.name,
    name: snapshot.name,
    id: snapshot.id,
    size: snapshot.size,
    createdAt: snapshot.createdAt.toISOString(),
    protected: snapshot.protected,
  };
}

/** A list-snapshots item: the snapshot without its image, plus how many clones it has. */
export function snapshotItem(snapshot: SnapshotInfo) {
  return {
    name: snapshot.name,
    id: snapshot.id,
    size: snapshot.size,
    createdAt: snapshot.createdAt.toISOString(),
    protected: snapshot.protected,
    children: snapshot.children,
  };
}

export function trashItem(entry: TrashEntry) {
  return {
    id: entry.id,
    name: entry.name,
    deletedAt: entry.deletedAt.toISOString(),
    deferredUntil: entry.deferredUntil.toISOString(),
    source: entry.source,
  };
}

/** "pool/image", or "pool/namespace/image", as the rbd CLI writes it. */
export function imagePath(spec: ImageSpec): string {
  return [spec.pool, spec.namespace, spec.name].filter(Boolean).join('/');
}

/** A snapshot's address in answers' details: the image it belongs to is `image`. */
export function snapshotScope(spec: Required<ImageSpec>, snapshot: string) {
  return { pool: spec.pool, namespace: spec.namespace, image: spec.name, snapshot };
}

/** "pool/image@snapshot", as the rbd CLI writes it. */
export function snapshotPath(spec: ImageSpec, snapshot: string): string {
  return `${imagePath(spec)}@${snapshot}`;
}
