/**
 * The JSON shapes the functions answer with, as zod schemas: the OpenAPI
 * document (openapi.ts) is generated from them, and the types of
 * shared/resources.ts and runtime/status.ts are inferred from them, so the
 * code and the document describe one shape. The runtime imports only their
 * types: the schemas load with the document, on its first request.
 */
import { z } from 'zod';

const v1 = z.literal('v1');
const bytes = z.number().int().nonnegative();
const timestamp = z.string().datetime({ offset: true }).describe('ISO 8601, UTC, to the millisecond');
const name = z.string().describe('A pool, namespace or image name');

/** A clone's parent: the snapshot it was cloned from. */
export const parentSchema = z.object({ pool: name, namespace: z.string(), image: name, snapshot: z.string() }).strict();

/** What every image answer holds, without kind and apiVersion. */
const imageFields = {
  pool: name,
  namespace: z.string().describe('"" for the pool\'s default namespace'),
  name,
  id: z.string().describe("librbd's image id"),
  size: bytes,
  objectSize: bytes,
  features: z.array(z.string()),
  createdAt: timestamp,
};

/** What changes after creation, beyond the fields a list-images detail item has. */
const imageDetailFields = {
  snapshots: z.number().int().nonnegative().describe('how many user snapshots it has'),
  watchers: z.array(z.string()).describe('the addresses of the clients watching it (mapped or open)'),
};

export const imageSchema = z.object({ kind: z.literal('Image'), apiVersion: v1, ...imageFields }).strict();

export const imageDetailSchema = imageSchema
  .extend({
    ...imageDetailFields,
    parent: parentSchema.nullable(),
    dataPool: z.string().nullable(),
    stripeUnit: bytes,
    stripeCount: z.number().int().positive(),
  })
  .strict();

/** get-image with usage=true. */
export const imageUsageSchema = imageDetailSchema.extend({ usedBytes: bytes.optional().describe('only with usage=true') }).strict();

/** clone-image, when it protected the snapshot first (v1 clones). */
export const imageClonedSchema = imageDetailSchema.extend({ warnings: z.array(z.string()).optional() }).strict();

export const snapshotSchema = z
  .object({
    kind: z.literal('Snapshot'),
    apiVersion: v1,
    pool: name,
    namespace: z.string(),
    image: name,
    name,
    id: z.number().int().nonnegative(),
    size: bytes,
    createdAt: timestamp,
    protected: z.boolean(),
  })
  .strict();

export const poolListSchema = z
  .object({
    kind: z.literal('PoolList'),
    apiVersion: v1,
    items: z.array(z.object({ name, id: z.number().int(), applications: z.array(z.string()) }).strict()),
  })
  .strict();

export const imageListSchema = z
  .object({
    kind: z.literal('ImageList'),
    apiVersion: v1,
    metadata: z.object({ continue: z.string().optional().describe('present when more images follow: the next page\'s "continue"') }).strict(),
    items: z.array(
      z.union([
        z.object({ pool: name, namespace: z.string(), name, id: z.string() }).strict(),
        z.object({ ...imageFields, ...imageDetailFields }).strict().describe('with detail=true'),
      ]),
    ),
  })
  .strict();

export const snapshotItemSchema = snapshotSchema
  .omit({ kind: true, apiVersion: true, pool: true, namespace: true, image: true })
  .extend({ children: z.number().int().nonnegative().describe('how many clones depend on it') })
  .strict();

export const snapshotListSchema = z.object({ kind: z.literal('SnapshotList'), apiVersion: v1, items: z.array(snapshotItemSchema) }).strict();

export const trashItemSchema = z
  .object({
    id: z.string(),
    name,
    deletedAt: timestamp,
    deferredUntil: timestamp.describe('when purge-trash may remove it'),
    source: z.enum(['user', 'mirroring', 'migration', 'removing', 'user_parent']),
  })
  .strict();

export const trashListSchema = z.object({ kind: z.literal('TrashList'), apiVersion: v1, items: z.array(trashItemSchema) }).strict();

export const trashPurgeSchema = z
  .object({
    kind: z.literal('TrashPurge'),
    apiVersion: v1,
    purged: z.array(z.string()).describe('the ids removed'),
    skipped: z.array(z.object({ id: z.string(), name, reason: z.string() }).strict()),
  })
  .strict();

/** A Kubernetes-style Status: every failure, and a deletion's success. */
export const statusSchema = z
  .object({
    kind: z.literal('Status'),
    apiVersion: v1,
    status: z.enum(['Failure', 'Success']),
    code: z.number().int(),
    reason: z.string(),
    message: z.string().optional(),
    details: z.record(z.unknown()).optional(),
  })
  .strict();
