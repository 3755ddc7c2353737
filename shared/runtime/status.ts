/**
 * Kubernetes-style Status objects, and the mapping from CephError codes to
 * HTTP statuses and reasons. Every error answer goes through here.
 */
import { CephError } from '../errors';
import { scrub, scrubValue } from './secrets';

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

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  status: 'Failure' | 'Success';
  code: number;
  reason: string;
  message?: string;
  details?: Record<string, unknown>;
}

/** An error that already knows its HTTP answer. */
export class HttpError extends Error {
  constructor(
    readonly code: number,
    readonly reason: Reason,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

const CEPH_TO_HTTP: Record<string, [number, Reason]> = {
  ERR_INVALID_PARAMETER: [400, 'BadRequest'],
  EINVAL: [400, 'BadRequest'],
  ERANGE: [400, 'BadRequest'],
  ENOENT: [404, 'NotFound'],
  EEXIST: [409, 'AlreadyExists'],
  EBUSY: [409, 'InUse'],
  EMLINK: [409, 'InUse'],
  ECHILD: [409, 'InUse'],
  ENOTEMPTY: [409, 'HasSnapshots'],
  EACCES: [403, 'Forbidden'],
  EPERM: [403, 'Forbidden'],
  EROFS: [403, 'Forbidden'],
  EDQUOT: [403, 'Forbidden'],
  ETIMEDOUT: [504, 'Timeout'],
  ENOSPC: [503, 'ServiceUnavailable'],
  ENOTCONN: [503, 'ServiceUnavailable'],
  ESHUTDOWN: [503, 'ServiceUnavailable'],
  ERR_CEPH_CONFIG_MISSING: [503, 'ServiceUnavailable'],
  ERR_CEPH_CONF_UNREADABLE: [503, 'ServiceUnavailable'],
  ERR_CEPH_KEYRING_MISSING: [503, 'ServiceUnavailable'],
  ERR_CEPH_AUTH_FAILED: [503, 'ServiceUnavailable'],
  ERR_CEPH_MON_UNREACHABLE: [503, 'ServiceUnavailable'],
  ERR_CEPH_CONNECT_FAILED: [503, 'ServiceUnavailable'],
};

/** A 200 Status for a change that leaves nothing to describe (a deletion). */
export function success(reason: string, details: Record<string, unknown>): Status {
  return { kind: 'Status', apiVersion: 'v1', status: 'Success', code: 200, reason, details };
}

/** A failure's Status; its message and details never carry a key or the token (secrets.ts). */
export function failure(code: number, reason: string, message: string, details?: Record<string, unknown>): Status {
  return { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message: scrub(message), ...(details && { details: scrubValue(details) }) };
}

/** The Status for any thrown value; unknown errors are 500 without internals. */
export function statusOf(err: unknown): Status {
  if (err instanceof HttpError) return failure(err.code, err.reason, err.message, err.details);
  if (err instanceof CephError) {
    const [code, reason] = CEPH_TO_HTTP[err.code] ?? [500, 'InternalError'];
    const scope = Object.fromEntries(
      Object.entries({ pool: err.pool, namespace: err.namespace, name: err.image, snapshot: err.snapshot, op: err.op }).filter(([, v]) => v !== undefined && v !== ''),
    );
    return failure(code, reason, err.message, { cephCode: err.code, ...scope, ...err.details });
  }
  return failure(500, 'InternalError', 'Internal error; the function log has the details (search by X-Call-Id).');
}
