/**
 * What each function answers, in one table keyed by function name: its
 * success statuses with their shapes, and the failures it can answer beyond
 * the ones every function can. The OpenAPI document (openapi.ts) is built
 * from it; a unit test fails when a function has no entry.
 */
import type { z } from 'zod';
import type { Reason } from '../errors';
import {
  imageClonedSchema,
  imageDetailSchema,
  imageListSchema,
  imageSchema,
  imageUsageSchema,
  poolListSchema,
  snapshotListSchema,
  snapshotSchema,
  trashListSchema,
  trashPurgeSchema,
} from './schemas';

export interface SuccessAnswer {
  /** The body's schema, or a Success Status with one of these reasons. */
  schema: z.ZodTypeAny | { successReasons: string[] };
  description: string;
  /** A real answer (from docs/functions.md); a unit test checks it against the schema. */
  example: unknown;
}

export interface FunctionAnswers {
  summary: string;
  success: Readonly<Record<number, SuccessAnswer>>;
  /** Failures of this function on top of COMMON_FAILURES: status → the reasons it may carry. */
  failures: Readonly<Partial<Record<number, readonly Reason[]>>>;
  /** A long operation: better called through /async-function/<name> (docs/functions.md#long-operations). */
  long?: boolean;
}

/**
 * Failures any function can answer, whatever it does: a bad or unknown
 * parameter or body (400), the bearer token (401), the Ceph user's caps or
 * RBD_POOLS (403), a method it does not take (405), what Node's HTTP server
 * refuses (408, 413, 431), the media type (415), max_inflight (429), a bug
 * or an errno the catalogue lacks (500), Ceph not connected or draining
 * (503), CEPH_TIMEOUT_SECONDS or exec_timeout (504). Their reasons come
 * from shared/errors.ts's catalogue and the runtime's own (docs/errors.md).
 */
export const COMMON_FAILURES = [400, 401, 403, 405, 408, 413, 415, 429, 431, 500, 503, 504] as const;

/** The reasons the runtime itself answers each status with, next to the catalogue's. */
export const RUNTIME_REASONS: Readonly<Record<number, readonly Reason[]>> = {
  400: ['BadRequest'],
  401: ['Unauthorized'],
  403: ['Forbidden'],
  404: ['NotFound'],
  405: ['MethodNotAllowed'],
  408: ['RequestTimeout'],
  413: ['PayloadTooLarge'],
  415: ['UnsupportedMediaType'],
  429: ['TooManyRequests'],
  431: ['RequestHeaderFieldsTooLarge'],
  500: ['InternalError'],
  503: ['ServiceUnavailable'],
  504: ['Timeout'],
};

// Answers the sandbox cluster gave, as docs/functions.md shows them.
const IMAGE = {
  kind: 'Image',
  apiVersion: 'v1',
  pool: 'rbd',
  namespace: '',
  name: 'vol1',
  id: '1011a0078bcb',
  size: 10737418240,
  objectSize: 4194304,
  features: ['layering', 'exclusive-lock', 'object-map', 'fast-diff', 'deep-flatten'],
  createdAt: '2026-11-25T19:56:34.431Z',
};
const IMAGE_DETAIL = { ...IMAGE, snapshots: 0, watchers: [], parent: null, dataPool: null, stripeUnit: 4194304, stripeCount: 1 };
const CLONE = { ...IMAGE_DETAIL, name: 'vol1-copy', id: '1011b4531bf1', parent: { pool: 'rbd', namespace: '', image: 'vol1', snapshot: 'before-upgrade' } };
const SNAPSHOT = { name: 'golden', id: 5, size: 21474836480, createdAt: '2026-12-02T14:58:25.785Z', protected: true };
const success = (reason: string, details: Record<string, string>) => ({ kind: 'Status', apiVersion: 'v1', status: 'Success', code: 200, reason, details });

export const FUNCTION_ANSWERS: Readonly<Record<string, FunctionAnswers>> = {
  'list-pools': {
    summary: 'List the pools tagged with the rbd application (or every pool)',
    success: { 200: { schema: poolListSchema, description: 'The pools', example: { kind: 'PoolList', apiVersion: 'v1', items: [{ name: 'rbd', id: 1, applications: ['rbd'] }] } } },
    failures: {},
  },
  'list-images': {
    summary: 'List the images of a pool and namespace, sorted by name, paged',
    success: {
      200: {
        schema: imageListSchema,
        description: 'One page of images',
        example: {
          kind: 'ImageList',
          apiVersion: 'v1',
          metadata: { continue: 'eyJwb29sIjoicmJkIiwibmFtZXNwYWNlIjoiIiwiYWZ0ZXIiOiJ2b2wxIn0' },
          items: [{ pool: 'rbd', namespace: '', name: 'vol1', id: '1011a0078bcb' }],
        },
      },
    },
    failures: { 404: ['NotFound'] },
  },
  'create-image': {
    summary: 'Create an image (idempotent)',
    success: {
      201: { schema: imageSchema, description: 'The image created', example: IMAGE },
      200: { schema: imageSchema, description: 'An image of that name and spec was there already: nothing changed', example: IMAGE },
    },
    failures: { 404: ['NotFound'], 409: ['AlreadyExists'] },
  },
  'get-image': {
    summary: 'Describe one image',
    success: { 200: { schema: imageUsageSchema, description: 'The image', example: { ...IMAGE_DETAIL, usedBytes: 67108864 } } },
    failures: { 404: ['NotFound'] },
  },
  'resize-image': {
    summary: 'Grow or shrink an image',
    success: { 200: { schema: imageDetailSchema, description: 'The image at its new size', example: { ...IMAGE_DETAIL, size: 21474836480 } } },
    failures: { 404: ['NotFound'], 409: ['WouldShrink', 'InUse'] },
  },
  'delete-image': {
    summary: 'Delete an image, or move it to the trash',
    success: {
      200: {
        schema: { successReasons: ['Deleted', 'Trashed'] },
        description: 'Deleted (or moved to the trash)',
        example: success('Deleted', { pool: 'rbd', namespace: '', name: 'vol2' }),
      },
    },
    failures: { 404: ['NotFound'], 409: ['InUse', 'HasSnapshots'] },
  },
  'create-snapshot': {
    summary: 'Take a snapshot of an image (idempotent)',
    success: {
      201: { schema: snapshotSchema, description: 'The snapshot created', example: { kind: 'Snapshot', apiVersion: 'v1', pool: 'rbd', namespace: '', image: 'vol1', ...SNAPSHOT } },
      200: {
        schema: snapshotSchema,
        description: 'The snapshot was there already (protected now if asked)',
        example: { kind: 'Snapshot', apiVersion: 'v1', pool: 'rbd', namespace: '', image: 'vol1', ...SNAPSHOT },
      },
    },
    failures: { 404: ['NotFound'], 409: ['InUse'] },
  },
  'list-snapshots': {
    summary: "List an image's user snapshots, oldest first",
    success: { 200: { schema: snapshotListSchema, description: 'The snapshots', example: { kind: 'SnapshotList', apiVersion: 'v1', items: [{ ...SNAPSHOT, children: 0 }] } } },
    failures: { 404: ['NotFound'] },
  },
  'delete-snapshot': {
    summary: 'Delete a snapshot',
    success: {
      200: {
        schema: { successReasons: ['Deleted'] },
        description: 'Deleted',
        example: success('Deleted', { pool: 'rbd', namespace: '', image: 'vol1', snapshot: 'golden' }),
      },
    },
    failures: { 404: ['NotFound'], 409: ['HasChildren', 'Protected', 'InUse'] },
  },
  'rollback-image': {
    summary: "Roll an image back to a snapshot's content and size",
    success: { 200: { schema: imageDetailSchema, description: 'The image as restored', example: IMAGE_DETAIL } },
    failures: { 404: ['NotFound'], 409: ['InUse'] },
    long: true,
  },
  'clone-image': {
    summary: 'Clone a snapshot copy-on-write (idempotent)',
    success: {
      201: { schema: imageClonedSchema, description: 'The clone created', example: CLONE },
      200: { schema: imageClonedSchema, description: 'This clone was there already', example: CLONE },
    },
    failures: { 404: ['NotFound'], 409: ['AlreadyExists', 'InUse'] },
  },
  'flatten-image': {
    summary: "Copy a clone's data up from its parent",
    success: { 200: { schema: imageDetailSchema, description: 'The image, parent null', example: { ...CLONE, parent: null } } },
    failures: { 404: ['NotFound'], 409: ['InUse'] },
    long: true,
  },
  'list-trash': {
    summary: "List the images in a pool's trash, oldest deletion first",
    success: {
      200: {
        schema: trashListSchema,
        description: 'The trash',
        example: {
          kind: 'TrashList',
          apiVersion: 'v1',
          items: [{ id: '1011b4531bf1', name: 'vol1-copy', deletedAt: '2026-12-02T14:58:27.000Z', deferredUntil: '2026-12-02T14:58:27.000Z', source: 'user' }],
        },
      },
    },
    failures: { 404: ['NotFound'] },
  },
  'restore-image': {
    summary: 'Bring an image back from the trash',
    success: { 200: { schema: imageDetailSchema, description: 'The image restored', example: { ...CLONE, name: 'vol1-back' } } },
    failures: { 404: ['NotFound'], 409: ['AlreadyExists', 'InUse'] },
  },
  'purge-trash': {
    summary: "Remove the images in a pool's trash for good",
    success: {
      200: {
        schema: trashPurgeSchema,
        description: 'What was removed and what was skipped, with why',
        example: { kind: 'TrashPurge', apiVersion: 'v1', purged: ['1011b4531bf1'], skipped: [] },
      },
    },
    failures: { 404: ['NotFound'] },
    long: true,
  },
};
