import { parseQuantity } from '../../shared/quantity';
import { FunctionContext, type FunctionEvent } from '../../shared/runtime/context';
import { Params } from '../../shared/runtime/params';
import { loadRuntimeSettings, parseDuration } from '../../shared/runtime/settings';
import { HttpError, statusOf } from '../../shared/runtime/status';
import { CephError, ERROR_CODES } from '../../shared/errors';
import pino from 'pino';

describe('quantities', () => {
  test.each([
    ['1', 1n],
    ['512Mi', 512n * 2n ** 20n],
    ['10Gi', 10n * 2n ** 30n],
    ['1.5Gi', 3n * 2n ** 29n],
    ['1T', 10n ** 12n],
    ['1k', 1000n],
    ['1e9', 10n ** 9n],
    ['2.5E3', 2500n],
    ['+4Ki', 4096n],
    ['0.5Ki', 512n],
  ])('%s is %s bytes', (text, bytes) => {
    expect(parseQuantity(text)).toBe(bytes);
  });

  test.each(['', 'Gi', '-1Gi', '1.1', '1.3Ki', '1m', '1 Gi', '1gi', '1e-1', '0x10', '1e99'])('%p is refused', (text) => {
    expect(parseQuantity(text)).toBeUndefined();
  });
});

describe('params', () => {
  const event = (query: Record<string, unknown>, body?: unknown): FunctionEvent => ({ body, headers: {}, method: 'POST', query, path: '/' });

  test('query and body are equivalent; one parameter in both must have one value', () => {
    const p = new Params(event({ pool: 'a', limit: '5' }, { name: 'b', limit: 5 }));
    expect(p.name('pool')).toBe('a');
    expect(p.name('name')).toBe('b');
    expect(p.int('limit', 1, 1, 10)).toBe(5);
    expect(() => new Params(event({ pool: 'a' }, { pool: 'b' }))).toThrow(expect.objectContaining({ code: 400, details: { parameter: 'pool' } }));
  });

  test('sizes as numbers or quantities, capped', () => {
    expect(new Params(event({ size: '1Gi' })).size('size', 2 ** 40)).toBe(2 ** 30);
    expect(new Params(event({}, { size: 4096 })).size('size', 2 ** 40)).toBe(4096);
    expect(() => new Params(event({ size: '2Gi' })).size('size', 2 ** 30)).toThrow(/for size/);
    expect(() => new Params(event({ size: '1.1' })).size('size', 2 ** 30)).toThrow(/for size/);
  });

  test('booleans, repeated query parameters and non-object bodies are refused clearly', () => {
    expect(new Params(event({ all: 'true' })).bool('all')).toBe(true);
    expect(new Params(event({}, { all: false })).bool('all', true)).toBe(false);
    expect(() => new Params(event({ all: 'yes' })).bool('all')).toThrow(/Expected true or false for all/);
    expect(() => new Params(event({ pool: ['a', 'b'] })).name('pool')).toThrow(/Expected a single value for pool/);
    expect(() => new Params(event({}, 'text'))).toThrow(HttpError);
  });
});

describe('settings', () => {
  test('watchdog-style durations', () => {
    expect(parseDuration('t', '30s')).toBe(30_000);
    expect(parseDuration('t', '1m30s')).toBe(90_000);
    expect(parseDuration('t', '500ms')).toBe(500);
    expect(parseDuration('t', '2')).toBe(2000);
    expect(() => parseDuration('exec_timeout', '30 seconds')).toThrow(/for exec_timeout/);
  });

  test('defaults, and the token never serialises', () => {
    const s = loadRuntimeSettings({ RBD_API_TOKEN: 'tok', RBD_POOLS: 'a, b', RBD_MAX_IMAGE_SIZE: '1Ti', port: '9000', TMPDIR: '/x' });
    expect(s).toMatchObject({ port: 9000, execTimeoutMs: 30_000, maxInflight: 0, maxBodyBytes: 65536, maxImageSize: 2 ** 40, lockFile: '/x/.lock' });
    expect([...s.allowedPools!]).toEqual(['a', 'b']);
    expect(s.apiToken).toBe('tok');
    expect(JSON.stringify(s)).not.toContain('tok');
    expect(loadRuntimeSettings({ PORT: '8081' }).port).toBe(8081);
    expect(loadRuntimeSettings({}).maxImageSize).toBe(64 * 2 ** 40);
    expect(() => loadRuntimeSettings({ RBD_MAX_IMAGE_SIZE: 'lots' })).toThrow(/RBD_MAX_IMAGE_SIZE/);
  });

  test('RBD_AUTH: token without a token refuses to serve, none is open and only with no token', () => {
    const missing = loadRuntimeSettings({ RBD_AUTH: 'token', RBD_API_TOKEN: '' }).authMissing;
    expect(missing).toMatch(/RBD_AUTH=token but no bearer token arrived/);
    expect(missing).toMatch(/RBD_AUTH=none/);
    expect(loadRuntimeSettings({ RBD_AUTH: 'token', RBD_API_TOKEN: 'tok' }).authMissing).toBeUndefined();
    const open = loadRuntimeSettings({ RBD_AUTH: 'none' });
    expect([open.authMissing, open.apiToken]).toEqual([undefined, undefined]);
    expect(() => loadRuntimeSettings({ RBD_AUTH: 'none', RBD_API_TOKEN: 'tok' })).toThrow(/RBD_AUTH/);
    expect(() => loadRuntimeSettings({ RBD_AUTH: 'bearer' })).toThrow(/"token".*or "none"/);
  });
});

describe('status mapping', () => {
  test.each([
    ['ERR_INVALID_PARAMETER', 400, 'BadRequest'],
    ['ENOENT', 404, 'NotFound'],
    ['EEXIST', 409, 'AlreadyExists'],
    ['EBUSY', 409, 'InUse'],
    ['ENOTEMPTY', 409, 'HasSnapshots'],
    ['EPERM', 403, 'Forbidden'],
    ['ETIMEDOUT', 504, 'Timeout'],
    ['ERR_CEPH_MON_UNREACHABLE', 503, 'ServiceUnavailable'],
    ['ERR_CEPH_KEYRING_MISSING', 503, 'ServiceUnavailable'],
    ['EIO', 500, 'InternalError'],
  ])('%s → %i %s', (code, http, reason) => {
    const status = statusOf(new CephError(code, 'm', { op: 'rbd_remove', pool: 'p', image: 'i' }));
    expect(status).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: http, reason, message: 'm' });
    expect(status.details).toMatchObject({ cephCode: code, pool: 'p', name: 'i', op: 'rbd_remove' });
  });

  test('every catalogued code maps to a deliberate status', () => {
    const unmapped = Object.keys(ERROR_CODES).filter((code) => statusOf(new CephError(code, '')).code === 500);
    expect(unmapped).toEqual(['EOPNOTSUPP', 'EIO']);
  });

  test('unknown errors are 500 without internals', () => {
    const status = statusOf(new Error('secret internals'));
    expect(status).toMatchObject({ code: 500, reason: 'InternalError' });
    expect(status.message).not.toContain('secret');
  });
});

describe('context', () => {
  const ctx = () =>
    new FunctionContext({ ceph: async () => Promise.reject(new Error('unused')), settings: loadRuntimeSettings({}), log: pino({ level: 'silent' }), callId: 'c', functionName: 'f' });

  test('status and headers chain; succeed and fail win over a returned value', () => {
    const c = ctx();
    expect(c.status()).toBe(200);
    c.status(201).headers({ 'X-A': '1' }).succeed({ ok: true });
    expect(c.status()).toBe(201);
    expect(c.headers()).toEqual({ 'X-A': '1' });
    expect(c.settle('ignored')).toEqual({ kind: 'value', value: { ok: true } });
    const failed = ctx().fail(new Error('x'));
    expect(failed.settle('ignored')).toMatchObject({ kind: 'error' });
    expect(ctx().settle(42)).toEqual({ kind: 'value', value: 42 });
  });
});
