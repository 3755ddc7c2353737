/**
 * delete-image: DELETE|POST with pool, name, namespace, trash → 200 Status
 * Deleted (or Trashed). Missing → 404; watchers → 409 InUse naming them;
 * snapshots → 409 HasSnapshots. Nothing is removed in those cases.
 */
import type { CephClient, ImageSpec } from '../../shared/ceph/client';
import { CephError } from '../../shared/errors';
import type { FunctionContext, FunctionEvent } from '../../shared/runtime/context';
import { imagePath } from '../../shared/resources';
import { inUse } from '../../shared/runtime/conflicts';
import { eventTypes } from '../../shared/runtime/event-types';
import { Params } from '../../shared/runtime/params';
import { SingleFlight } from '../../shared/runtime/single-flight';
import { HttpError, success } from '../../shared/runtime/status';

export const methods = ['DELETE'] as const;

/** The parameters it takes, in the query string or the body; any other is refused (400). */
export const parameters = ['pool', 'namespace', 'name', 'trash'] as const;

/** As a CloudEvent: takes io.ceph.rbd.image.delete, replies io.ceph.rbd.image.deleted (or io.ceph.rbd.error). */
export const events = eventTypes('image.delete', 'image.deleted');

/**
 * Deletes of one image in flight in this process: the first does the work;
 * the others wait for it and then answer as a later delete would, 404 (or
 * with its error), since it was not theirs that removed the image.
 */
const deletes = new SingleFlight<void>();

export default async function deleteImage(event: FunctionEvent, context: FunctionContext) {
  const params = new Params(event);
  const spec = params.image('name', context.settings.allowedPools);
  const trash = params.bool('trash');

  const ceph = await context.ceph();
  const { joined } = await deletes.run(JSON.stringify([spec.pool, spec.namespace, spec.name]), () => remove(ceph, spec, trash));
  if (joined) throw new HttpError(404, 'NotFound', `Image "${imagePath(spec)}" was deleted by a concurrent request.`, { ...spec });
  context.changed();
  return success(trash ? 'Trashed' : 'Deleted', spec);
}

async function remove(ceph: CephClient, spec: Required<ImageSpec>, trash: boolean): Promise<void> {
  try {
    if (trash) {
      // librbd moves an image with watchers to the trash; an image that is
      // mapped somewhere must not vanish from listings, so refuse as remove does.
      const { watchers } = await ceph.statImage(spec);
      if (watchers.length > 0) throw inUse(spec, watchers.map((w) => w.address));
      await ceph.trashImage(spec);
    } else {
      await ceph.removeImage(spec);
    }
  } catch (err) {
    throw await explain(ceph, spec, err);
  }
}

async function explain(ceph: CephClient, spec: Required<ImageSpec>, err: unknown): Promise<unknown> {
  if (!(err instanceof CephError)) return err;
  const where = imagePath(spec);
  if (err.code === 'EBUSY') {
    const watchers = await ceph.statImage(spec).then(
      (info) => info.watchers.map((w) => w.address),
      () => [] as string[],
    );
    return inUse(spec, watchers);
  }
  if (err.code === 'ENOTEMPTY') {
    return new HttpError(409, 'HasSnapshots', `Image "${where}" has snapshots. Remove them first (rbd snap purge ${where}), or move the image to the trash with trash=true.`, {
      ...spec,
    });
  }
  return err;
}
