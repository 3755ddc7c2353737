/**
 * resize-image: POST with pool, namespace, name, size, allowShrink → 200
 * Image at its new size. The same size changes nothing. Growing an image in
 * use is allowed (online expansion, as ceph-csi does); shrinking needs
 * allowShrink=true (409 WouldShrink otherwise) and no watchers (409 InUse).
 */
import { imageDetailResource, imagePath } from '../../shared/resources';
import { inUse } from '../../shared/runtime/conflicts';
import type { FunctionContext, FunctionEvent } from '../../shared/runtime/context';
import { Params } from '../../shared/runtime/params';
import { HttpError } from '../../shared/runtime/status';

export const methods = ['POST'] as const;

/** The parameters it takes, in the query string or the body; any other is refused (400). */
export const parameters = ['pool', 'namespace', 'name', 'size', 'allowShrink'] as const;

/** As a CloudEvent: takes rbd.image.resize, replies rbd.image.resized (or rbd.error). */
export const events = { accepts: 'rbd.image.resize', replies: 'rbd.image.resized' };

export default async function resizeImage(event: FunctionEvent, context: FunctionContext) {
  const params = new Params(event);
  const spec = params.image('name', context.settings.allowedPools);
  const size = params.size('size', context.settings.maxImageSize);
  const allowShrink = params.bool('allowShrink');

  const ceph = await context.ceph();
  const before = await ceph.statImage(spec);
  if (size === before.size) return imageDetailResource(before);
  if (size < before.size) {
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
  }
  await ceph.resizeImage(spec, size, { allowShrink });
  context.changed();
  // A resize changes the size alone: no second open (as slow as the resize) to read it back.
  return { ...imageDetailResource(before), size };
}
