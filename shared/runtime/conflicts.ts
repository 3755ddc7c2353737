/** 409 answers more than one function gives. */
import type { ImageSpec } from '../ceph/client';
import { imagePath } from '../resources';
import { HttpError } from './status';

/** The image has watchers (or, with none, an exclusive lock held elsewhere or a migration). */
export function inUse(spec: Required<ImageSpec>, watchers: string[], doing = 'is in use'): HttpError {
  const who = watchers.length ? `watchers ${watchers.join(', ')}` : 'an exclusive lock held elsewhere, or a migration';
  return new HttpError(
    409,
    'InUse',
    `Image "${imagePath(spec)}" ${doing} (${who}). Unmap it or stop the clients using it, then retry; a crashed client's watch expires after about 30 s.`,
    { ...spec, watchers },
  );
}
