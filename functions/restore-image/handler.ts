/**
 * restore-image: POST with pool, namespace, id, name → 200 Image, back from
 * the pool's trash under its old name or the name given. Unknown id → 404;
 * the name taken → 409 AlreadyExists; an image librbd itself moved there
 * (a removal or migration under way) → 409 InUse.
 */
import { CephError } from '../../shared/errors';
import { imageDetailResource, imagePath } from '../../shared/resources';
import type { FunctionContext, FunctionEvent } from '../../shared/runtime/context';
import { eventTypes } from '../../shared/runtime/event-types';
import { Params, checkPoolAllowed } from '../../shared/runtime/params';
import { HttpError } from '../../shared/runtime/status';

export const methods = ['POST'] as const;

/** The parameters it takes, in the query string or the body; any other is refused (400). */
export const parameters = ['pool', 'namespace', 'id', 'name'] as const;

/** As a CloudEvent: takes io.ceph.rbd.image.restore, replies io.ceph.rbd.image.restored (or io.ceph.rbd.error). */
export const events = eventTypes('image.restore', 'image.restored');

export default async function restoreImage(event: FunctionEvent, context: FunctionContext) {
  const params = new Params(event);
  const pool = params.name('pool');
  const namespace = params.namespace();
  const id = params.trashId('id');
  const newName = params.has('name') ? params.name('name') : undefined;
  checkPoolAllowed(context.settings.allowedPools, pool);

  const ceph = await context.ceph();
  let result;
  try {
    result = await ceph.restoreTrash(pool, namespace, id, newName);
  } catch (err) {
    if (err instanceof CephError && err.code === 'ENOENT' && err.op === 'rbd_trash_get') {
      throw new HttpError(404, 'NotFound', `No image with id "${id}" in the trash of ${imagePath({ pool, namespace, name: '' })}; list-trash shows what is there.`, {
        pool,
        namespace,
        id,
      });
    }
    if (err instanceof CephError && err.code === 'EEXIST') {
      // The name librbd found taken: the one given, or the image's own.
      const taken = { pool, namespace, name: err.image ?? newName ?? '' };
      throw new HttpError(409, 'AlreadyExists', `Image "${imagePath(taken)}" already exists. Restore under another name (name=...), or delete the existing image first.`, {
        ...taken,
        id,
      });
    }
    throw err;
  }
  // The others are librbd's own work in progress (a removal, a migration, mirroring), which it finishes or undoes itself.
  if (!result.restored) {
    throw new HttpError(
      409,
      'InUse',
      `Image "${result.name}" (id ${id}) is in the trash of ${pool} because librbd moved it there (source "${result.source}"), not a user; it can't be restored while librbd works on it.`,
      { pool, namespace, id, source: result.source },
    );
  }
  context.changed();
  return imageDetailResource(result.image);
}
