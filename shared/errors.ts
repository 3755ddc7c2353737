/**
 * The error classes of rbd-functions, and the one catalogue of their codes.
 *
 * Ceph errors keep librados/librbd's symbolic errno name as `code`, so callers
 * can branch on `ENOENT` or `EBUSY` as they would on a Node fs error. Failures
 * that we diagnose ourselves (config, keyring, auth, monitors) get `ERR_*`
 * codes whose messages say what to do. A parameter refused before it reaches
 * Ceph is a ParameterError, not a CephError: nothing went wrong in Ceph.
 *
 * Each code carries its message and the HTTP status and reason it is answered
 * with (fastify's lib/errors.js shape): the HTTP mapping, the documentation
 * check and the tests read this one table.
 */

/** The reasons of the Status objects this project answers with. */
export type Reason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'AlreadyExists'
  | 'InUse'
  | 'HasSnapshots'
  | 'HasChildren'
  | 'Protected'
  | 'WouldShrink'
  | 'PayloadTooLarge'
  | 'UnsupportedMediaType'
  | 'RequestHeaderFieldsTooLarge'
  | 'RequestTimeout'
  | 'TooManyRequests'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'Timeout';

export interface CatalogueEntry {
  message: string;
  status: number;
  reason: Reason;
}

// The answers several codes share.
const UNAVAILABLE = { status: 503, reason: 'ServiceUnavailable' } as const;
const FORBIDDEN = { status: 403, reason: 'Forbidden' } as const;
const BAD_REQUEST = { status: 400, reason: 'BadRequest' } as const;
const IN_USE = { status: 409, reason: 'InUse' } as const;
// No answer a caller could act on: the log has the rest.
const INTERNAL = { status: 500, reason: 'InternalError' } as const;

export const ERROR_CODES = {
  // From librados/librbd (code is the errno name).
  ENOENT: { message: 'The pool, namespace or image does not exist.', status: 404, reason: 'NotFound' },
  EEXIST: { message: 'An image with that name already exists.', status: 409, reason: 'AlreadyExists' },
  EBUSY: { message: 'The image is in use: it has watchers (mapped or open elsewhere), its exclusive lock is held, or it is migrating.', ...IN_USE },
  ENOTEMPTY: { message: 'The image has snapshots; remove them first.', status: 409, reason: 'HasSnapshots' },
  EMLINK: { message: 'The image is in a group; remove it from the group first.', ...IN_USE },
  ECHILD: { message: 'The image has clones attached; flatten or remove them first.', ...IN_USE },
  EACCES: { message: "The Ceph user lacks the caps for this operation; it needs mon 'profile rbd' and osd 'profile rbd pool=<pool>'.", ...FORBIDDEN },
  EPERM: { message: "The Ceph user is not permitted to do this; it needs mon 'profile rbd' and osd 'profile rbd pool=<pool>'.", ...FORBIDDEN },
  ETIMEDOUT: { message: 'Ceph did not answer within the configured timeout (CEPH_TIMEOUT_SECONDS).', status: 504, reason: 'Timeout' },
  EINVAL: { message: 'Ceph rejected an argument (for example a feature combination or stripe layout).', ...BAD_REQUEST },
  ERANGE: { message: 'A value was out of the range Ceph accepts.', ...BAD_REQUEST },
  ENOSPC: { message: 'The cluster or pool is full.', ...UNAVAILABLE },
  EDQUOT: { message: 'The pool quota is exceeded.', ...FORBIDDEN },
  EROFS: { message: 'The pool or image is read-only.', ...FORBIDDEN },
  EOPNOTSUPP: { message: 'The cluster does not support this operation or feature.', ...INTERNAL },
  EIO: { message: 'Ceph reported an I/O error.', ...INTERNAL },
  ENOTCONN: { message: 'The cluster handle was never connected.', ...UNAVAILABLE },
  ESHUTDOWN: { message: 'The cluster handle is closed.', ...UNAVAILABLE },
  // Diagnosed by rbd-functions.
  ERR_INVALID_PARAMETER: { message: 'An argument failed validation before reaching Ceph.', ...BAD_REQUEST },
  ERR_CEPH_CONFIG_MISSING: { message: 'No Ceph configuration was found in the environment, OpenFaaS secrets or /etc/ceph.', ...UNAVAILABLE },
  ERR_CEPH_CONF_UNREADABLE: { message: 'The ceph.conf file is missing, unreadable or invalid.', ...UNAVAILABLE },
  ERR_CEPH_KEYRING_MISSING: { message: 'No readable keyring holds a key for the configured client.', ...UNAVAILABLE },
  ERR_CEPH_AUTH_FAILED: { message: 'The monitors rejected the key, or the user lacks the caps to connect.', ...UNAVAILABLE },
  ERR_CEPH_MON_UNREACHABLE: { message: 'No monitor answered within the timeout.', ...UNAVAILABLE },
  ERR_CEPH_CONNECT_FAILED: { message: "Connecting failed for a reason not diagnosed more precisely; the message carries librados's own.", ...UNAVAILABLE },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The catalogue's entry for a code; other errno names from librados pass through with none. */
export function catalogued(code: string): CatalogueEntry | undefined {
  return Object.hasOwn(ERROR_CODES, code) ? ERROR_CODES[code as ErrorCode] : undefined;
}

/** Where a Ceph error happened. */
export interface CephErrorScope {
  /** The librados/librbd call that failed, e.g. `rbd_create4`. */
  op?: string;
  pool?: string;
  namespace?: string;
  image?: string;
  /** The snapshot a snapshot operation was on. */
  snapshot?: string;
}

export interface CephErrorInit extends CephErrorScope {
  /** Negative errno as librados/librbd returned it, if Ceph reported one. */
  errno?: number;
  /** Files and settings the diagnosis looked at, for logs and HTTP details. */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class CephError extends Error implements CephErrorScope {
  override readonly name = 'CephError';
  readonly code: ErrorCode | string;
  readonly errno?: number;
  readonly op?: string;
  readonly pool?: string;
  readonly namespace?: string;
  readonly image?: string;
  readonly snapshot?: string;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode | string, message: string, init: CephErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = code;
    this.errno = init.errno;
    this.op = init.op;
    this.pool = init.pool;
    this.namespace = init.namespace;
    this.image = init.image;
    this.snapshot = init.snapshot;
    this.details = init.details;
  }
}

/** A parameter (of a request, a setting or a client call) refused before anything reached Ceph. */
export class ParameterError extends Error {
  override readonly name = 'ParameterError';
  readonly code = 'ERR_INVALID_PARAMETER';

  constructor(
    /** The parameter's name as the caller gave it, e.g. `size` or `options.features`. */
    readonly parameter: string,
    message: string,
  ) {
    super(message);
  }
}

/** An error raised on purpose with a code: from Ceph, or a refused parameter. */
export type CodedError = CephError | ParameterError;

export function isCodedError(err: unknown): err is CodedError {
  return err instanceof CephError || err instanceof ParameterError;
}

/**
 * The error for an argument that fails validation, in one shape everywhere:
 * `Expected <expected> for <name> but received <actual>`.
 */
export function invalidParameterError(name: string, expected: string, actual: unknown): ParameterError {
  return new ParameterError(name, `Expected ${expected} for ${name} but received ${describe(actual)}`);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `${JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)} of type string`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${String(value)} of type ${typeof value}`;
}
