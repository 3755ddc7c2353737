/** The JSON shapes the functions answer with. */
import type { ImageDescription } from './ceph/client';

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
