/**
 * Request parameters, where query parameters and JSON body fields are
 * equivalent (async queue-workers always POST a body). A parameter given in
 * both must have the same value in both, or the request is ambiguous (400).
 */
import type { ImageSpec } from '../ceph/client';
import type { CreatableFeature } from '../ceph/features';
import { invalidParameterError } from '../errors';
import { parseQuantity } from '../quantity';
import { validateName, validateNamespace, validateSize, validateTrashId } from '../validation';
import type { FunctionEvent } from './handler-types';
import { isPlainObject } from './plain-object';
import { HttpError } from './status';

export class Params {
  private readonly values: Record<string, unknown>;

  constructor(event: FunctionEvent) {
    const body = event.body;
    if (body !== undefined && !isPlainObject(body)) {
      throw new HttpError(400, 'BadRequest', 'The request body must be a JSON object.');
    }
    for (const [key, value] of Object.entries(body ?? {})) {
      const query = event.query[key];
      if (query !== undefined && value !== undefined && String(query) !== String(value)) {
        throw new HttpError(400, 'BadRequest', `Parameter "${key}" has one value in the query string and another in the body; give it once.`, {
          parameter: key,
        });
      }
    }
    this.values = { ...event.query, ...(body as Record<string, unknown> | undefined) };
  }

  has(name: string): boolean {
    return this.values[name] !== undefined;
  }

  /** The value as sent: a string, or any JSON value from the body. */
  raw(name: string): unknown {
    return this.values[name];
  }

  /** A single value: ?a=1&a=2 arrives as an array, which no scalar parameter takes. */
  private scalar(name: string): unknown {
    const value = this.values[name];
    if (Array.isArray(value)) throw invalidParameterError(name, 'a single value', value.join(','));
    return value;
  }

  name(name: string): string {
    if (!this.has(name)) throw invalidParameterError(name, 'a name (required)', undefined);
    return validateName(name, this.scalar(name));
  }

  namespace(name = 'namespace'): string {
    return validateNamespace(this.scalar(name), name);
  }

  /**
   * pool, namespace and the image named by `param` ("name" for the image a
   * function acts on, "image" for the one a snapshot belongs to); 403 when
   * RBD_POOLS does not allow the pool.
   */
  image(param: 'name' | 'image', allowed: ReadonlySet<string> | undefined): Required<ImageSpec> {
    const spec = { pool: this.name('pool'), namespace: this.namespace(), name: this.name(param) };
    checkPoolAllowed(allowed, spec.pool);
    return spec;
  }

  trashId(name: string): string {
    if (!this.has(name)) throw invalidParameterError(name, 'an image id from list-trash (required)', undefined);
    return validateTrashId(this.scalar(name), name);
  }

  bool(name: string, fallback = false): boolean {
    const value = this.scalar(name);
    if (value === undefined || value === '') return fallback;
    if (value === true || value === 'true' || value === '1') return true;
    if (value === false || value === 'false' || value === '0') return false;
    throw invalidParameterError(name, 'true or false', value);
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const value = this.scalar(name);
    if (value === undefined || value === '') return fallback;
    const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min || n > max) {
      throw invalidParameterError(name, `a whole number from ${min} to ${max}`, value);
    }
    return n;
  }

  string(name: string): string | undefined {
    const value = this.scalar(name);
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw invalidParameterError(name, 'a string', value);
    return value;
  }

  /**
   * Feature names: "layering,exclusive-lock" in a query string, an array in
   * JSON. Checked against the creatable features by the client.
   */
  features(): CreatableFeature[] | undefined {
    const features = this.raw('features');
    if (features === undefined) return undefined;
    return (typeof features === 'string' ? features.split(',').filter(Boolean) : features) as CreatableFeature[];
  }

  /** Bytes, from a number or a Kubernetes quantity ("10Gi", "1.5Gi", "1T"). */
  size(name: string, max: number): number {
    const value = this.scalar(name);
    if (value === undefined) throw invalidParameterError(name, 'a size (required), in bytes or as "10Gi"', undefined);
    if (typeof value === 'string') {
      const bytes = parseQuantity(value);
      if (bytes === undefined || bytes > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw invalidParameterError(name, 'a whole number of bytes or a quantity such as "512Mi", "10Gi" or "1.5Gi"', value);
      }
      return validateSize(Number(bytes), max, name);
    }
    return validateSize(value, max, name);
  }
}

/** 403 unless RBD_POOLS allows the pool. */
export function checkPoolAllowed(allowed: ReadonlySet<string> | undefined, pool: string): void {
  if (allowed && !allowed.has(pool)) {
    throw new HttpError(403, 'Forbidden', `Pool "${pool}" is not open to these functions (RBD_POOLS allows ${[...allowed].join(', ')}).`, { pool });
  }
}

/**
 * Refuses a parameter the function does not take: a misspelt option
 * ("featurs") must not be ignored silently, least of all by a create.
 */
export function checkParameters(fn: string, accepted: readonly string[], event: FunctionEvent): void {
  const given = [...Object.keys(event.query), ...(isPlainObject(event.body) ? Object.keys(event.body) : [])];
  const unknown = given.find((key) => !accepted.includes(key));
  if (unknown === undefined) return;
  const shown = unknown.length > 64 ? `${unknown.slice(0, 64)}...` : unknown;
  throw new HttpError(400, 'BadRequest', `${fn} takes no parameter ${JSON.stringify(shown)}; it takes ${accepted.join(', ')}.`, {
    parameter: shown,
    accepted: [...accepted],
  });
}
