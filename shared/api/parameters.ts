/**
 * Each request parameter's JSON schema, by name, for the OpenAPI document:
 * what runtime/params.ts and validation.ts accept, with the limits taken
 * from them. Meanings and defaults come from shared/parameter-docs.ts.
 */
import { z } from 'zod';
import { CREATABLE_FEATURES } from '../ceph/features';
import { MAX_OBJECT_ORDER, MIN_OBJECT_ORDER, NAME_MAX_BYTES } from '../validation';

// Byte limits, not characters: the document can only say so.
const nameSchema = z
  .string()
  .min(1)
  .regex(/^[^/@\s]+$/)
  .describe(`1-${NAME_MAX_BYTES} bytes of UTF-8 without "/", "@", whitespace or control characters`);
const namespaceSchema = z.string().regex(/^[^/@\s]*$/);
const booleanSchema = z.union([z.boolean(), z.enum(['true', 'false', '1', '0'])]);
const quantitySchema = z.union([
  z.number().int().positive(),
  z.string().regex(/^\d+(\.\d+)?([eE]\d+|[kMGTPE]i?|Ki)?$/).describe('digits, or a Kubernetes quantity such as "10Gi"'),
]);
const digits = (max: number) => z.union([z.number().int().min(1).max(max), z.string().regex(/^\d+$/)]);

export const PARAMETER_SCHEMAS: Readonly<Record<string, z.ZodTypeAny>> = {
  pool: nameSchema,
  namespace: namespaceSchema,
  name: nameSchema,
  image: nameSchema,
  snapshot: nameSchema,
  targetPool: nameSchema,
  targetNamespace: namespaceSchema,
  dataPool: nameSchema,
  id: z.string().regex(/^[0-9a-f]{1,64}$/),
  size: quantitySchema,
  objectSize: quantitySchema.describe(`a power of two from ${2 ** MIN_OBJECT_ORDER} to ${2 ** MAX_OBJECT_ORDER}`),
  stripeUnit: quantitySchema,
  stripeCount: digits(2 ** 32 - 1),
  features: z.union([z.array(z.enum(CREATABLE_FEATURES)), z.string().describe('comma-separated')]),
  limit: digits(10_000),
  continue: z.string(),
  all: booleanSchema,
  detail: booleanSchema,
  trash: booleanSchema,
  usage: booleanSchema,
  allowShrink: booleanSchema,
  protect: booleanSchema,
  unprotect: booleanSchema,
  expiredOnly: booleanSchema,
};
