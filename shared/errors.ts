/**
 * The one error class of rbd-functions, and the catalogue of its codes.
 *
 * Ceph errors keep librados/librbd's symbolic errno name as `code`, so callers
 * can branch on `ENOENT` or `EBUSY` as they would on a Node fs error. Failures
 * that we diagnose ourselves (config, keyring, auth, monitors, bad input) get
 * `ERR_*` codes whose messages say what to do.
 */

export const ERROR_CODES = {
  // From librados/librbd (code is the errno name).
  ENOENT: 'The pool, namespace or image does not exist.',
  EEXIST: 'An image with that name already exists.',
  EBUSY: 'The image is in use: it has watchers (mapped or open elsewhere), its exclusive lock is held, or it is migrating.',
  ENOTEMPTY: 'The image has snapshots; remove them first.',
  EMLINK: 'The image is in a group; remove it from the group first.',
  ECHILD: 'The image has clones attached; flatten or remove them first.',
  EACCES: "The Ceph user lacks the caps for this operation; it needs mon 'profile rbd' and osd 'profile rbd pool=<pool>'.",
  EPERM: "The Ceph user is not permitted to do this; it needs mon 'profile rbd' and osd 'profile rbd pool=<pool>'.",
  ETIMEDOUT: 'Ceph did not answer within the configured timeout (CEPH_TIMEOUT_SECONDS).',
  EINVAL: 'Ceph rejected an argument (for example a feature combination or stripe layout).',
  ERANGE: 'A value was out of the range Ceph accepts.',
  ENOSPC: 'The cluster or pool is full.',
  EDQUOT: 'The pool quota is exceeded.',
  EROFS: 'The pool or image is read-only.',
  EOPNOTSUPP: 'The cluster does not support this operation or feature.',
  EIO: 'Ceph reported an I/O error.',
  ENOTCONN: 'The cluster handle was never connected.',
  ESHUTDOWN: 'The cluster handle is closed.',
  // Diagnosed by rbd-functions.
  ERR_INVALID_PARAMETER: 'An argument failed validation before reaching Ceph.',
  ERR_CEPH_CONFIG_MISSING: 'No Ceph configuration was found in the environment, OpenFaaS secrets or /etc/ceph.',
  ERR_CEPH_CONF_UNREADABLE: 'The ceph.conf file is missing, unreadable or invalid.',
  ERR_CEPH_KEYRING_MISSING: 'No readable keyring holds a key for the configured client.',
  ERR_CEPH_AUTH_FAILED: 'The monitors rejected the key, or the user lacks the caps to connect.',
  ERR_CEPH_MON_UNREACHABLE: 'No monitor answered within the timeout.',
  ERR_CEPH_CONNECT_FAILED: 'Connecting failed for a reason not diagnosed more precisely; the message carries librados\'s own.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

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

/** True for errors raised by this project (or the addon) with a code. */
export function isCephError(err: unknown): err is CephError {
  return err instanceof CephError;
}

/**
 * The error for an argument that fails validation, in one shape everywhere:
 * `Expected <expected> for <name> but received <actual>`.
 */
export function invalidParameterError(name: string, expected: string, actual: unknown): CephError {
  return new CephError(
    'ERR_INVALID_PARAMETER',
    `Expected ${expected} for ${name} but received ${describe(actual)}`,
    { details: { parameter: name } },
  );
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `${JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)} of type string`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${String(value)} of type ${typeof value}`;
}
