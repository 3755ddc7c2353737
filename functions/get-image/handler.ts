/**
 * get-image: GET|POST with pool, namespace, name, usage → 200 Image: the
 * list-images detail item plus parent, dataPool and striping; usage=true
 * adds usedBytes as `rbd du` counts them (slower: it walks the image's
 * allocation, whole objects when fast-diff is on). Missing → 404.
 */
import { imageDetailResource } from '../../shared/resources';
import type { FunctionContext, FunctionEvent } from '../../shared/runtime/context';
import { eventTypes } from '../../shared/runtime/event-types';
import { Params } from '../../shared/runtime/params';

export const methods = ['GET'] as const;

/** The parameters it takes, in the query string or the body; any other is refused (400). */
export const parameters = ['pool', 'namespace', 'name', 'usage'] as const;

/** As a CloudEvent: takes io.ceph.rbd.image.get, replies io.ceph.rbd.image.got (or io.ceph.rbd.error). */
export const events = eventTypes('image.get', 'image.got');

export default async function getImage(event: FunctionEvent, context: FunctionContext) {
  const params = new Params(event);
  const spec = params.image('name', context.settings.allowedPools);
  const usage = params.bool('usage');

  const ceph = await context.ceph();
  const [info, usedBytes] = await Promise.all([ceph.statImage(spec), usage ? ceph.imageUsage(spec) : undefined]);
  const image = imageDetailResource(info);
  return usage ? { ...image, usedBytes } : image;
}
