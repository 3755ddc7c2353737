/**
 * create-image: POST {pool, namespace?, name, size, features?, objectSize?,
 * stripeUnit?, stripeCount?, dataPool?} → 201 Image.
 * Idempotent: the same name with the same size (and features, when given)
 * → 200 with the existing image; a different spec → 409 AlreadyExists.
 */
import type { CephClient, ImageDescription, ImageInfo, ImageSpec } from '../../shared/ceph/client';
import { CREATABLE_FEATURES } from '../../shared/ceph/features';
import { CephError, invalidParameterError } from '../../shared/errors';
import { parseQuantity } from '../../shared/quantity';
import { imagePath, imageResource } from '../../shared/resources';
import type { FunctionContext, FunctionEvent } from '../../shared/runtime/context';
import { eventTypes } from '../../shared/runtime/event-types';
import { Params, checkPoolAllowed } from '../../shared/runtime/params';
import { SingleFlight } from '../../shared/runtime/single-flight';
import { HttpError } from '../../shared/runtime/status';
import type { CreateImageOptions } from '../../shared/validation';

export const methods = ['POST'] as const;

/** The parameters it takes, in the query string or the body; any other is refused (400). */
export const parameters = ['pool', 'namespace', 'name', 'size', 'features', 'objectSize', 'stripeUnit', 'stripeCount', 'dataPool'] as const;

/** As a CloudEvent: takes io.ceph.rbd.image.create, replies io.ceph.rbd.image.created (or io.ceph.rbd.error). */
export const events = eventTypes('image.create', 'image.created');

/** Identical creates in flight in this process share one call to Ceph; the joiners answer 200. */
const creates = new SingleFlight<{ info: ImageDescription; created: boolean }>();

export default async function createImage(event: FunctionEvent, context: FunctionContext) {
  const params = new Params(event);
  const allowed = context.settings.allowedPools;
  const spec = params.image('name', allowed);
  const size = params.size('size', context.settings.maxImageSize);
  const options = createOptions(params);
  if (options.dataPool) checkPoolAllowed(allowed, options.dataPool);

  const ceph = await context.ceph();
  const { value, joined } = await creates.run(JSON.stringify([spec, size, options]), () => create(ceph, spec, size, options));
  const created = value.created && !joined;
  if (created) context.changed();
  return context.status(created ? 201 : 200).succeed(imageResource(value.info));
}

function createOptions(params: Params): CreateImageOptions {
  const options: CreateImageOptions = {};
  const features = params.features();
  if (features !== undefined) options.features = features;
  const bytes = (name: 'objectSize' | 'stripeUnit') => {
    const value = params.raw(name);
    if (typeof value !== 'string') return value as number | undefined;
    const parsed = parseQuantity(value);
    if (parsed === undefined) throw invalidParameterError(name, 'bytes or a quantity such as "4Mi"', value);
    return Number(parsed);
  };
  if (params.has('objectSize')) options.objectSize = bytes('objectSize');
  if (params.has('stripeUnit')) options.stripeUnit = bytes('stripeUnit');
  if (params.has('stripeCount')) options.stripeCount = params.int('stripeCount', 1, 1, 2 ** 32 - 1);
  if (params.has('dataPool')) options.dataPool = params.name('dataPool');
  return options;
}

async function create(
  ceph: CephClient,
  spec: Required<ImageSpec>,
  size: number,
  options: CreateImageOptions,
): Promise<{ info: ImageDescription; created: boolean }> {
  try {
    // Answers with the image as created: no statImage (an open, as slow as the create) after it.
    return { info: await ceph.createImageDescribed(spec, size, options), created: true };
  } catch (err) {
    if (!(err instanceof CephError && err.code === 'EEXIST')) throw err;
  }
  const existing = await statSettled(ceph, spec);
  const sameFeatures = options.features === undefined || sameSet(creatable(existing.features), creatable(withImplied(options.features)));
  if (existing.size === size && sameFeatures) return { info: existing, created: false };
  throw new HttpError(
    409,
    'AlreadyExists',
    `Image "${imagePath(spec)}" already exists with a different spec (size ${existing.size} bytes, features ${existing.features.join(',')}). ` +
      'Use another name, or delete the existing image first.',
    { ...spec, existingSize: existing.size, existingFeatures: existing.features, requestedSize: size },
  );
}

/**
 * Stats an image that another create may still be writing: its name can be
 * taken a moment before its header exists, so ENOENT is retried briefly.
 */
async function statSettled(ceph: CephClient, spec: ImageSpec): Promise<ImageInfo> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await ceph.statImage(spec);
    } catch (err) {
      if (!(err instanceof CephError && err.code === 'ENOENT') || attempt >= 10) throw err;
      await new Promise((resolve) => setTimeout(resolve, 20 * (attempt + 1)));
    }
  }
}

/** librbd turns fast-diff on with object-map, so asking for object-map alone gets both. */
function withImplied(features: readonly string[]): string[] {
  return features.includes('object-map') && !features.includes('fast-diff') ? [...features, 'fast-diff'] : [...features];
}

/** Features a caller can ask for, without striping, which librbd adds by itself. */
function creatable(features: readonly string[]): string[] {
  return features.filter((f) => f !== 'striping' && (CREATABLE_FEATURES as readonly string[]).includes(f));
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
