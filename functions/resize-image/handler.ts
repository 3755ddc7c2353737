/**
 * resize-image: POST with pool, namespace, name, size, allowShrink → 200
 * Image at its new size. The same size changes nothing. Growing an image in
 * use is allowed (online expansion, as ceph-csi does); shrinking needs
 * allowShrink=true (409 WouldShrink otherwise) and no watchers (409 InUse).
 */
import { CephError } from '../../shared/errors';
import { imageDetailResource, imagePath } from '../../shared/resources';
import { inUse } from '../../shared/runtime/conflicts';
import type { FunctionContext, FunctionEvent } from '../../shared/runtime/context';
import { eventTypes } from '../../shared/runtime/event-types';
import { Params } from '../../shared/runtime/params';
import { HttpError } from '../../shared/runtime/status';

export const methods = ['POST'] as const;

/** The parameters it takes, in the query string or the body; any other is refused (400). */
export const parameters = ['pool', 'namespace', 'name', 'size', 'allowShrink'] as const;

/** As a CloudEvent: takes io.ceph.rbd.image.resize, replies io.ceph.rbd.image.resized (or io.ceph.rbd.error). */
export const events = eventTypes('image.resize', 'image.resized');

export default async function resizeImage(event: FunctionEvent, context: FunctionContext) {
  const params = new Params(event);
  const spec = params.image('name', context.settings.allowedPools);
  const size = params.size('size', context.settings.maxImageSize);
  const allowShrink = params.bool('allowShrink');

  const ceph = await context.ceph();
  // Grows (or keeps the size) straight away: librbd refuses a shrink without
  // allowShrink, changing nothing, and only then is the image looked at.
  try {
    const resized = await ceph.resizeImage(spec, size);
    if (resized.previousSize !== size) context.changed();
    return imageDetailResource(resized);
  } catch (err) {
    if (!(err instanceof CephError && err.code === 'EINVAL')) throw err;
  }
  const before = await ceph.statImage(spec);
  if (size >= before.size) throw new HttpError(400, 'BadRequest', `Ceph refused to resize "${imagePath(spec)}" to ${size} bytes.`, { ...spec, requestedSize: size });
  if (!allowShrink) {
    throw new HttpError(
      409,
      'WouldShrink',
      `Image "${imagePath(spec)}" is ${before.size} bytes; ${size} would shrink it and lose the data beyond. Send allowShrink=true to shrink it.`,
      { ...spec, currentSize: before.size, requestedSize: size },
    );
  }
  // A mapped image's filesystem would find its end cut off under it.
  if (before.watchers.length > 0) throw inUse(spec, before.watchers.map((w) => w.address), "can't be shrunk while it is in use");
  const shrunk = await ceph.resizeImage(spec, size, { allowShrink: true });
  context.changed();
  return imageDetailResource(shrunk);
}
