/**
 * Kubernetes-style Status objects, and the HTTP answer for every error: coded
 * errors take their status and reason from the catalogue (shared/errors.ts).
 * Every error answer goes through here.
 */
import type { z } from 'zod';
import type { statusSchema } from '../api/schemas';
import { CephError, catalogued, isCodedError, type CodedError, type Reason } from '../errors';
import { scrub, scrubValue } from './secrets';

/** Its schema (api/schemas.ts) is what the OpenAPI document shows. */
export type Status = z.infer<typeof statusSchema>;

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
  if (isCodedError(err)) {
    // An errno name the catalogue does not know is a failure we cannot explain.
    const { status, reason } = catalogued(err.code) ?? { status: 500, reason: 'InternalError' };
    return failure(status, reason, err.message, { cephCode: err.code, ...detailsOf(err) });
  }
  return failure(500, 'InternalError', 'Internal error; the function log has the details (search by X-Call-Id).');
}

/** An error no one meant to answer with: a bug, to log with its stack (a 500). */
export function isBug(err: unknown): boolean {
  return !isCodedError(err) && !(err instanceof HttpError);
}

/** A 405's Allow header, which that status requires; undefined for any other error. */
export function allowHeader(err: unknown): string | undefined {
  return err instanceof HttpError && err.code === 405 ? String(err.details?.allow ?? '') : undefined;
}

/** What the error was about: the parameter refused, or where in Ceph it failed and what the diagnosis found. */
function detailsOf(err: CodedError): Record<string, unknown> {
  if (!(err instanceof CephError)) return { parameter: err.parameter };
  const scope = Object.fromEntries(
    Object.entries({ pool: err.pool, namespace: err.namespace, name: err.image, snapshot: err.snapshot, op: err.op }).filter(([, v]) => v !== undefined && v !== ''),
  );
  return { ...scope, ...err.details };
}
