/**
 * Runtime settings, from the environment (OpenFaaS watchdog names where they
 * exist) and OpenFaaS secrets. Read once at start-up.
 */
import { readSecret } from '../config';
import { invalidParameterError } from '../errors';
import { parseQuantity } from '../quantity';
import { DEFAULT_MAX_IMAGE_SIZE, validateName } from '../validation';

export interface RuntimeSettings {
  /** `port` or `PORT`. Default 8080. */
  port: number;
  /** `exec_timeout`: a request still running after this gets 504. Default 30 s. */
  execTimeoutMs: number;
  /** `max_inflight`: requests beyond this many at once get 429. Default 0 = unlimited. */
  maxInflight: number;
  /** Largest request body, in bytes; larger gets 413. 64 KiB. */
  maxBodyBytes: number;
  /** `RBD_MAX_IMAGE_SIZE`: bytes or a quantity. Default 64Ti. */
  maxImageSize: number;
  /** `RBD_API_TOKEN` or the secret `rbd-api-token`. Not enumerable: never logged. */
  apiToken?: string;
  /**
   * Why nothing may be served: `RBD_AUTH=token` and no token arrived (a
   * missing or misnamed Secret). The process then stays not ready and
   * answers every call 503 with this, rather than serve unauthenticated.
   */
  authMissing?: string;
  /** `RBD_POOLS=a,b`: the only pools any function may touch. Default: all. */
  allowedPools?: ReadonlySet<string>;
  /** `$TMPDIR/.lock`, written once ready. */
  lockFile: string;
  /** `CEPH_CHECK_INTERVAL_SECONDS`: how often readiness re-checks the cluster. Default 5 s. */
  checkIntervalMs: number;
  /** Async calls (the gateway's /async-function) and event delivery. */
  async: AsyncSettings;
  /** `K_SINK` (a Knative SinkBinding): where create/delete announce their changes. */
  sink?: string;
  /** `K_CE_OVERRIDES`: extensions the SinkBinding asks for on every emitted event. */
  sinkOverrides: Record<string, string>;
}

export interface AsyncSettings {
  /** `RBD_ASYNC_QUEUE_SIZE`: accepted calls waiting to run; beyond, 429. Default 1024. */
  queueSize: number;
  /** `RBD_ASYNC_CONCURRENCY`: async calls running at once. Default 8. */
  concurrency: number;
  /** `RBD_DELIVERY_RETRIES`: retries of a failed callback or sink delivery. Default 3. */
  retries: number;
  /** `RBD_DELIVERY_BACKOFF`: the first retry's delay, doubling after. Default 500ms. */
  backoffMs: number;
  /** `RBD_DELIVERY_TIMEOUT`: one callback or sink POST. Default 10s. */
  timeoutMs: number;
  /** `RBD_ASYNC_DRAIN_TIMEOUT`: on SIGTERM, how long queued calls may still run; the rest are reported. Default 20s. */
  drainMs: number;
}

/** Go-style durations as the watchdog takes them: "30s", "1m30s", "500ms"; a bare number is seconds. */
export function parseDuration(name: string, text: string): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 1e-6 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
    throw invalidParameterError(name, 'a duration such as "30s", "1m30s" or "500ms"', text);
  }
  return parts.reduce((ms, [, n, unit]) => ms + Number(n) * units[unit!]!, 0);
}

function parseCount(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw invalidParameterError(name, 'a whole number >= 0', text);
  return n;
}

export function loadRuntimeSettings(env: NodeJS.ProcessEnv = process.env): RuntimeSettings {
  const port = parseCount('port', env.port ?? env.PORT, 8080);
  let maxImageSize = DEFAULT_MAX_IMAGE_SIZE;
  if (env.RBD_MAX_IMAGE_SIZE) {
    const bytes = parseQuantity(env.RBD_MAX_IMAGE_SIZE);
    if (bytes === undefined || bytes <= 0n || bytes > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw invalidParameterError('RBD_MAX_IMAGE_SIZE', 'a byte count or quantity such as "64Ti"', env.RBD_MAX_IMAGE_SIZE);
    }
    maxImageSize = Number(bytes);
  }
  const pools = env.RBD_POOLS?.split(',').map((p) => p.trim()).filter(Boolean);
  pools?.forEach((pool) => validateName('RBD_POOLS', pool));
  const duration = (name: string, fallback: number) => (env[name] ? parseDuration(name, env[name]) : fallback);
  const async: AsyncSettings = {
    queueSize: Math.max(1, parseCount('RBD_ASYNC_QUEUE_SIZE', env.RBD_ASYNC_QUEUE_SIZE, 1024)),
    concurrency: Math.max(1, parseCount('RBD_ASYNC_CONCURRENCY', env.RBD_ASYNC_CONCURRENCY, 8)),
    retries: parseCount('RBD_DELIVERY_RETRIES', env.RBD_DELIVERY_RETRIES, 3),
    backoffMs: duration('RBD_DELIVERY_BACKOFF', 500),
    timeoutMs: duration('RBD_DELIVERY_TIMEOUT', 10_000),
    drainMs: duration('RBD_ASYNC_DRAIN_TIMEOUT', 20_000),
  };
  const settings: RuntimeSettings = {
    port,
    execTimeoutMs: duration('exec_timeout', 30_000),
    maxInflight: parseCount('max_inflight', env.max_inflight, 0),
    maxBodyBytes: 64 * 1024,
    maxImageSize,
    allowedPools: pools?.length ? new Set(pools) : undefined,
    lockFile: `${env.TMPDIR || '/tmp'}/.lock`,
    checkIntervalMs: duration('CEPH_CHECK_INTERVAL_SECONDS', 5000),
    async,
    sink: env.K_SINK ? parseUrl('K_SINK', env.K_SINK) : undefined,
    sinkOverrides: parseOverrides(env.K_CE_OVERRIDES),
  };
  const token = env.RBD_API_TOKEN || readSecret('rbd-api-token');
  if (token) Object.defineProperty(settings, 'apiToken', { value: token, enumerable: false });
  // A deployment that expects a token must not start open when it is lost on
  // the way; serving without authentication is said explicitly (RBD_AUTH=none).
  const auth = env.RBD_AUTH || undefined;
  if (auth !== undefined && auth !== 'token' && auth !== 'none') {
    throw invalidParameterError('RBD_AUTH', '"token" (calls need the bearer token) or "none" (no authentication)', auth);
  }
  if (auth === 'none' && token) {
    throw invalidParameterError('RBD_AUTH', '"token" when a token is set (RBD_API_TOKEN or the secret rbd-api-token), or no token with "none"', auth);
  }
  if (auth === 'token' && !token) {
    settings.authMissing =
      'RBD_AUTH=token but no bearer token arrived: RBD_API_TOKEN is unset or empty and there is no secret rbd-api-token. ' +
      'Create the Secret the deployment names (see docs/deploy.md), or set RBD_AUTH=none to serve without authentication.';
  }
  return settings;
}

/** An absolute http(s) URL, as callbacks and sinks must be. */
export function parseUrl(name: string, text: string): string {
  // The URL parser drops tabs and newlines silently and keeps %0D%0A: refuse
  // both, so a callback goes where it says and carries nothing to inject.
  if (/[^\x21-\x7e]|%(?:[01][0-9a-f]|7f)/i.test(text)) {
    throw invalidParameterError(name, 'a URL without spaces, control characters (raw or percent-encoded, such as %0D%0A) or non-ASCII', text);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalidParameterError(name, 'an absolute http:// or https:// URL', text);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalidParameterError(name, 'an http:// or https:// URL', text);
  // The parser repairs "http:host", "http:/host" and "http:\\host"; a callback is written out in full.
  if (!/^https?:\/\/[^/\\?#]/i.test(text)) throw invalidParameterError(name, 'an absolute URL starting http:// or https:// and a host', text);
  return url.href;
}

/** K_CE_OVERRIDES is {"extensions": {name: value}}; anything else is a deployment error. */
function parseOverrides(text: string | undefined): Record<string, string> {
  if (!text) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalidParameterError('K_CE_OVERRIDES', 'JSON such as {"extensions":{"name":"value"}}', text);
  }
  const extensions = (parsed as { extensions?: unknown })?.extensions ?? {};
  if (typeof extensions !== 'object' || extensions === null || Array.isArray(extensions)) {
    throw invalidParameterError('K_CE_OVERRIDES', 'JSON such as {"extensions":{"name":"value"}}', text);
  }
  return Object.fromEntries(Object.entries(extensions).map(([k, v]) => [k, String(v)]));
}
