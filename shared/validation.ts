/**
 * Input validation for everything that reaches librados/librbd. Each check
 * throws invalidParameterError(name, expected, actual), so every bad input
 * reads the same way and nothing malformed is ever passed to C.
 */
import { z } from 'zod';
import { invalidParameterError } from './errors';
import { CREATABLE_FEATURES, FEATURE_REQUIRES, featureMask, type CreatableFeature } from './ceph/features';

/** Longest pool, namespace or image name, in UTF-8 bytes. */
export const NAME_MAX_BYTES = 250;
/** Default cap on image size: 64 TiB. */
export const DEFAULT_MAX_IMAGE_SIZE = 64 * 2 ** 40;
/** Object sizes librbd accepts: 4 KiB (order 12) to 32 MiB (order 25). */
export const MIN_OBJECT_ORDER = 12;
export const MAX_OBJECT_ORDER = 25;

const NAME_EXPECTED = `1-${NAME_MAX_BYTES} bytes of UTF-8 without "/", "@", whitespace or control characters`;
// "/" and "@" separate pool/namespace/image@snap in Ceph's own specs.
// Cs catches lone surrogates, which have no UTF-8 encoding.
const FORBIDDEN_IN_NAME = /[/@\s\p{Cc}\p{Cs}]/u;

function isValidName(value: unknown): value is string {
  if (typeof value !== 'string' || value.length === 0) return false;
  if (Buffer.byteLength(value, 'utf8') > NAME_MAX_BYTES) return false;
  return !FORBIDDEN_IN_NAME.test(value);
}

/** A pool or image name. */
export function validateName(parameter: string, value: unknown): string {
  if (!isValidName(value)) throw invalidParameterError(parameter, NAME_EXPECTED, value);
  return value;
}

/** A namespace: a name, or "" (or undefined) for the pool's default namespace. */
export function validateNamespace(value: unknown, parameter = 'namespace'): string {
  if (value === undefined || value === '') return '';
  if (!isValidName(value)) throw invalidParameterError(parameter, `"" or ${NAME_EXPECTED}`, value);
  return value;
}

/** An image's id in the trash, as librbd makes them: lower-case hex. */
export function validateTrashId(value: unknown, parameter = 'id'): string {
  if (typeof value !== 'string' || !/^[0-9a-f]{1,64}$/.test(value)) {
    throw invalidParameterError(parameter, 'an image id from list-trash (1-64 lower-case hex digits)', value);
  }
  return value;
}

/** A safe integer from min to max inclusive; unit describes it in the message. */
export function validateInteger(parameter: string, value: unknown, min: number, max: number, unit = ''): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalidParameterError(parameter, `a whole number${unit} from ${min} to ${max}`, value);
  }
  return value;
}

/** An image size in bytes: a positive safe integer no larger than max. */
export function validateSize(value: unknown, max = DEFAULT_MAX_IMAGE_SIZE, parameter = 'size'): number {
  return validateInteger(parameter, value, 1, max, ' of bytes');
}

const powerOfTwo = (n: number) => Number.isSafeInteger(n) && n > 0 && (n & (n - 1)) === 0;

/**
 * Options for a new image. All are optional; librbd's defaults apply.
 * - features: names from CREATABLE_FEATURES. Default: DEFAULT_FEATURES.
 * - objectSize: bytes, a power of two from 4 KiB to 32 MiB. Default: 4 MiB.
 * - stripeUnit, stripeCount: fancy striping; give both or neither. The stripe
 *   unit must divide the object size. Default: no striping.
 * - dataPool: a separate pool for data objects (e.g. erasure-coded). Default: none.
 */
export interface CreateImageOptions {
  features?: CreatableFeature[];
  objectSize?: number;
  stripeUnit?: number;
  stripeCount?: number;
  dataPool?: string;
}

/** What the addon takes: bits and an order instead of names and a size. */
export interface NativeCreateOptions {
  features?: number;
  order?: number;
  stripeUnit?: number;
  stripeCount?: number;
  dataPool?: string;
}

const createOptionsSchema = z
  .object({
    features: z.array(z.enum(CREATABLE_FEATURES)).optional(),
    objectSize: z
      .number()
      .refine((n) => powerOfTwo(n) && n >= 2 ** MIN_OBJECT_ORDER && n <= 2 ** MAX_OBJECT_ORDER)
      .optional(),
    stripeUnit: z.number().refine(powerOfTwo).optional(),
    stripeCount: z.number().int().min(1).max(2 ** 32 - 1).optional(),
    dataPool: z.string().refine(isValidName).optional(),
  })
  .strict();

const OPTION_EXPECTED: Record<string, string> = {
  features: `an array of ${CREATABLE_FEATURES.join(', ')}`,
  objectSize: 'a power of two from 4096 (4 KiB) to 33554432 (32 MiB)',
  stripeUnit: 'a power of two number of bytes',
  stripeCount: 'a whole number from 1 to 4294967295',
  dataPool: NAME_EXPECTED,
};

export function validateCreateOptions(value: unknown = {}): NativeCreateOptions {
  const parsed = createOptionsSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') {
      throw invalidParameterError('options', `only ${Object.keys(OPTION_EXPECTED).join(', ')}`, issue.keys.join(', '));
    }
    const key = String(issue.path[0] ?? 'options');
    const actual = key === 'options' ? value : (value as Record<string, unknown>)[key];
    throw invalidParameterError(`options.${key}`.replace('options.options', 'options'), OPTION_EXPECTED[key] ?? 'an object', actual);
  }
  const opts = parsed.data;
  const out: NativeCreateOptions = {};

  if (opts.features) {
    for (const feature of opts.features) {
      const needed = FEATURE_REQUIRES[feature];
      if (needed && !opts.features.includes(needed)) {
        throw invalidParameterError('options.features', `${feature} together with ${needed}`, opts.features.join(','));
      }
    }
    out.features = featureMask(opts.features);
  }
  if (opts.objectSize !== undefined) out.order = Math.log2(opts.objectSize);
  if ((opts.stripeUnit === undefined) !== (opts.stripeCount === undefined)) {
    throw invalidParameterError('options.stripeUnit', 'stripeUnit and stripeCount given together', opts.stripeUnit ?? opts.stripeCount);
  }
  if (opts.stripeUnit !== undefined && opts.stripeCount !== undefined) {
    const objectSize = opts.objectSize ?? 2 ** 22;
    if (opts.stripeUnit > objectSize || objectSize % opts.stripeUnit !== 0) {
      throw invalidParameterError('options.stripeUnit', `a divisor of the object size (${objectSize})`, opts.stripeUnit);
    }
    out.stripeUnit = opts.stripeUnit;
    out.stripeCount = opts.stripeCount;
  }
  if (opts.dataPool !== undefined) out.dataPool = opts.dataPool;
  return out;
}
