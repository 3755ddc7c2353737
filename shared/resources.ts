/** The JSON shapes the functions answer with, built; their schemas are in api/schemas.ts. */
import type { z } from 'zod';
import type { imageDetailSchema, imageSchema, snapshotItemSchema, snapshotSchema, trashItemSchema } from './api/schemas';
import type { ImageDescription, ImageInfo, ImageSpec, SnapshotInfo, TrashEntry } from './ceph/client';

// Types only: the schemas themselves load with the OpenAPI document, not with the runtime.
export type ImageResource = z.infer<typeof imageSchema>;
/** An image with what changes after creation: get-image and the lifecycle functions. */
export type ImageDetailResource = z.infer<typeof imageDetailSchema>;
export type SnapshotResource = z.infer<typeof snapshotSchema>;
export type SnapshotItem = z.infer<typeof snapshotItemSchema>;
export type TrashItem = z.infer<typeof trashItemSchema>;

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
export function snapshotItem(snapshot: SnapshotInfo): SnapshotItem {
  return {
    name: snapshot.name,
    id: snapshot.id,
    size: snapshot.size,
    createdAt: snapshot.createdAt.toISOString(),
    protected: snapshot.protected,
    children: snapshot.children,
  };
}

export function trashItem(entry: TrashEntry): TrashItem {
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
