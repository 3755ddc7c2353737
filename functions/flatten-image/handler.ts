/**
 * flatten-image: POST with pool, namespace, name → 200 Image with parent
 * null: the clone's data is copied up from its parent, so the parent's
 * snapshot can then be deleted. An image without a parent is unchanged.
 * Flattening a large image takes a while: call it asynchronously.
 */
import type { CephClient, ImageSpec } from '../../shared/ceph/client';
import { CephError } from '../../shared/errors';
import { imageDetailResource, imagePath } from '../../shared/resources';
import type { FunctionContext, FunctionEvent } from '../../shared/runtime/context';
import { eventTypes } from '../../shared/runtime/event-types';
import { Params } from '../../shared/runtime/params';
import { logProgress } from '../../shared/runtime/progress';
import { SingleFlight } from '../../shared/runtime/single-flight';
import type { Logger } from 'pino';

export const methods = ['POST'] as const;

/** The parameters it takes, in the query string or the body; any other is refused (400). */
export const parameters = ['pool', 'namespace', 'name'] as const;

/** As a CloudEvent: takes io.ceph.rbd.image.flatten, replies io.ceph.rbd.image.flattened (or io.ceph.rbd.error). */
export const events = eventTypes('image.flatten', 'image.flattened');

/** Flattens of one image in flight here share the work; the joiners find it flat, as a repeat would. */
const flattens = new SingleFlight<boolean>();

export default async function flattenImage(event: FunctionEvent, context: FunctionContext) {
  const spec = new Params(event).image('name', context.settings.allowedPools);
  const ceph = await context.ceph();
  const { value: flattened, joined } = await flattens.run(JSON.stringify([spec.pool, spec.namespace, spec.name]), () => flatten(ceph, spec, context.log));
  if (flattened && !joined) context.changed();
  return imageDetailResource(await ceph.statImage(spec));
}

/**
 * True when it flattened the image, false when it had no parent. Flattened
 * straight away, without a stat first (an open, as costly as the flatten of
 * a small clone): librbd answers EINVAL for an image without a parent.
 */
async function flatten(ceph: CephClient, spec: Required<ImageSpec>, log: Logger): Promise<boolean> {
  try {
    await ceph.flattenImage(spec, { onProgress: logProgress(log, 'flatten', imagePath(spec)) });
    return true;
  } catch (err) {
    if (!(err instanceof CephError && err.code === 'EINVAL')) throw err;
    if ((await ceph.statImage(spec)).parent !== null) throw err;
    return false;
  }
}
