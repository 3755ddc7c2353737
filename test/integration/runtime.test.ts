/**
 * The runtime's guards against the real cluster: token auth, the pool
 * allowlist, exec_timeout, max_inflight, and a cluster unreachable from the
 * start; its request log. Plus handlers called directly, without HTTP.
 */
import fs from 'node:fs';
import pino from 'pino';
import listPools from '../../functions/list-pools/handler';
import createImage from '../../functions/create-image/handler';
import { CephClient } from '../../shared/ceph/client';
import { FunctionContext, type FunctionEvent } from '../../shared/runtime/context';
import { loadRuntimeSettings } from '../../shared/runtime/settings';
import { adminKey, ceph, connectSandbox, rbd, sandboxConfig, uniqueName } from '../helpers/ceph';
import { freePort } from '../helpers/net';
import { call, startGateway } from '../helpers/gateway';

describe('token auth', () => {
  test('every function route needs the bearer token; health and metrics stay open', async () => {
    const gw = await startGateway({ RBD_API_TOKEN: 's3cret-token' });
    try {
      const none = await call(`${gw.url}/function/list-pools`);
      expect(none.status).toBe(401);
      expect(none.body).toMatchObject({ kind: 'Status', reason: 'Unauthorized' });
      expect(none.headers.get('www-authenticate')).toBe('Bearer');
      expect((await call(`${gw.url}/function/list-pools`, { headers: { Authorization: 'Bearer s3cret-tokeN' } })).status).toBe(401);
      expect((await call(`${gw.url}/function/list-pools`, { headers: { Authorization: 'Bearer s3cret-token-longer' } })).status).toBe(401);
      expect((await call(`${gw.url}/function/list-pools`, { headers: { Authorization: 's3cret-token' } })).status).toBe(401);
      expect((await call(`${gw.url}/api/v1/pools/`)).status).toBe(401);
      // Refused before the body is read or the method checked.
      expect((await call(`${gw.url}/function/create-image`, { method: 'PUT' })).status).toBe(401);
      const ok = await call(`${gw.url}/function/list-pools`, { headers: { Authorization: 'Bearer s3cret-token' } });
      expect(ok.status).toBe(200);
      for (const path of ['/_/health', '/_/ready', '/metrics', '/healthz']) {
        expect((await fetch(`${gw.url}${path}`)).status).toBe(200);
      }
    } finally {
      await gw.close();
    }
  });
});

describe('RBD_AUTH=token with no token (a lost Secret)', () => {
  test('serves nothing: every call and readiness answer 503 with the reason, health stays 200, no lock file', async () => {
    const gw = await startGateway({ RBD_AUTH: 'token', RBD_API_TOKEN: '' });
    try {
      for (const url of [`${gw.url}/function/list-pools`, `${gw.url}/_/ready`]) {
        const res = await call(url);
        expect(res.status).toBe(503);
        expect(res.body.message).toMatch(/RBD_AUTH=token but no bearer token arrived/);
      }
      expect((await call(`${gw.url}/function/list-pools`, { headers: { Authorization: 'Bearer anything' } })).status).toBe(503);
      expect((await call(`${gw.url}/_/health`)).status).toBe(200);
      expect(fs.existsSync(gw.runtime.options.settings.lockFile)).toBe(false);
      expect(gw.logs.some((line) => line.msg === 'refusing to serve: not ready until restarted with a token')).toBe(true);
    } finally {
      await gw.close();
    }
  });
});

describe('RBD_POOLS allowlist', () => {
  test('other pools are hidden from list-pools and refused with 403 everywhere else', async () => {
    const other = uniqueName('other');
    ceph('osd', 'pool', 'create', other, '4');
    rbd('pool', 'init', other);
    const gw = await startGateway({ RBD_POOLS: 'rbd' });
    try {
      const open = await startGateway();
      const everything = (await call(`${open.url}/function/list-pools`)).body.items.map((p: { name: string }) => p.name);
      await open.close();
      expect(everything).toEqual(expect.arrayContaining(['rbd', other]));

      const pools = await call(`${gw.url}/function/list-pools?all=true`);
      expect(pools.body.items.map((p: { name: string }) => p.name)).toEqual(['rbd']);
      const before = rbd('ls', other);
      for (const [path, init] of [
        [`/function/list-images?pool=${other}`, {}],
        ['/function/create-image', { body: { pool: other, name: 'x', size: '1Gi' } }],
        ['/function/create-image', { body: { pool: 'rbd', name: 'x', size: '1Gi', dataPool: other } }],
        [`/function/delete-image?pool=${other}&name=x`, { method: 'DELETE' }],
      ] as const) {
        const res = await call(`${gw.url}${path}`, init);
        expect(res.status).toBe(403);
        expect(res.body).toMatchObject({ reason: 'Forbidden', message: expect.stringContaining(other) });
      }
      expect(rbd('ls', other)).toBe(before);
      expect(rbd('ls', 'rbd').split('\n')).not.toContain('x');
    } finally {
      await gw.close();
      ceph('osd', 'pool', 'rm', other, other, '--yes-i-really-really-mean-it');
    }
  });
});

describe('limits', () => {
  const ns = uniqueName('slow');
  beforeAll(async () => {
    rbd('namespace', 'create', `rbd/${ns}`);
    const client = await connectSandbox();
    await Promise.all(Array.from({ length: 64 }, (_, i) => client.createImage({ pool: 'rbd', namespace: ns, name: `i${i}` }, 2 ** 20)));
    await client.close();
  });

  test('exec_timeout answers 504 while the call runs on', async () => {
    const gw = await startGateway({ exec_timeout: '10ms' });
    try {
      const started = Date.now();
      const res = await call(`${gw.url}/function/list-images?pool=rbd&namespace=${ns}&detail=true`);
      expect(res.status).toBe(504);
      expect(res.body).toMatchObject({ kind: 'Status', code: 504, reason: 'Timeout', message: expect.stringContaining('exec_timeout') });
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      await gw.close();
    }
  });

  test('max_inflight answers 429 beyond the limit, and readiness says so', async () => {
    const gw = await startGateway({ max_inflight: '1' });
    try {
      const slow = call(`${gw.url}/function/list-images?pool=rbd&namespace=${ns}&detail=true`);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const [refused, ready] = await Promise.all([call(`${gw.url}/function/list-pools`), call(`${gw.url}/_/ready`)]);
      expect(refused.status).toBe(429);
      expect(refused.body).toMatchObject({ reason: 'TooManyRequests' });
      expect(ready.status).toBe(429);
      expect((await slow).status).toBe(200);
      expect((await call(`${gw.url}/function/list-pools`)).status).toBe(200);
    } finally {
      await gw.close();
    }
  });

  afterAll(async () => {
    const client = await connectSandbox();
    await Promise.all(Array.from({ length: 64 }, (_, i) => client.removeImage({ pool: 'rbd', namespace: ns, name: `i${i}` })));
    await client.close();
    rbd('namespace', 'remove', `rbd/${ns}`);
  });
});

describe('a cluster unreachable from the start', () => {
  test('functions answer 503 within the timeout + 1 s naming the monitor; the process stays up', async () => {
    const port = await freePort(); // nobody listens there
    const monHost = `127.0.0.1:${port}`;
    const gw = await startGateway({}, () =>
      sandboxConfig({ CEPH_CONF: '', CEPH_MON_HOST: monHost, CEPH_KEY: adminKey(), CEPH_TIMEOUT_SECONDS: '2' }),
    );
    try {
      for (let i = 0; i < 2; i++) {
        const started = Date.now();
        const res = await call(`${gw.url}/function/list-pools`);
        expect(Date.now() - started).toBeLessThan(3000);
        expect(res.status).toBe(503);
        expect(res.body).toMatchObject({ reason: 'ServiceUnavailable', details: { cephCode: 'ERR_CEPH_MON_UNREACHABLE' } });
        expect(res.body.message).toContain(monHost);
      }
      expect((await call(`${gw.url}/_/ready`)).status).toBe(503);
      expect((await call(`${gw.url}/_/health`)).status).toBe(200);
    } finally {
      await gw.close();
    }
  });
});

describe('the request log', () => {
  test('a change logs at info, a failure at warn, a read that succeeds only at debug', async () => {
    const gw = await startGateway();
    try {
      const name = uniqueName('log');
      const requests = (callId: string) => gw.logs.filter((l) => l.msg === 'request' && l.callId === callId);
      await call(`${gw.url}/function/list-pools`, { headers: { 'X-Call-Id': 'log-read' } });
      await call(`${gw.url}/function/create-image`, { body: { pool: 'rbd', name, size: '1Mi' }, headers: { 'X-Call-Id': 'log-create' } });
      await call(`${gw.url}/function/create-image`, { body: { pool: 'rbd', name, size: '1Mi' }, headers: { 'X-Call-Id': 'log-repeat' } });
      await call(`${gw.url}/function/delete-image?pool=rbd&name=${name}`, { method: 'DELETE', headers: { 'X-Call-Id': 'log-delete' } });
      await call(`${gw.url}/function/delete-image?pool=rbd&name=${name}`, { method: 'DELETE', headers: { 'X-Call-Id': 'log-missing' } });
      expect(requests('log-create')).toEqual([expect.objectContaining({ level: 30, function: 'create-image', status: 201, durationMs: expect.any(Number) })]);
      expect(requests('log-delete')).toEqual([expect.objectContaining({ level: 30, function: 'delete-image', status: 200 })]);
      expect(requests('log-missing')).toEqual([expect.objectContaining({ level: 40, status: 404 })]);
      // An idempotent repeat changed nothing: a read.
      expect(requests('log-repeat')).toEqual([]);
      expect(requests('log-read')).toEqual([]);
    } finally {
      await gw.close();
    }
  });
});

describe('handlers called directly', () => {
  let client: CephClient;
  beforeAll(async () => {
    client = await connectSandbox();
  });
  afterAll(() => client.close());

  const context = (env: NodeJS.ProcessEnv = {}) =>
    new FunctionContext({
      ceph: async () => client,
      settings: loadRuntimeSettings(env),
      log: pino({ level: 'silent' }),
      callId: 'direct',
      functionName: 'direct',
    });
  const event = (over: Partial<FunctionEvent>): FunctionEvent => ({ body: undefined, headers: {}, method: 'GET', query: {}, path: '/', ...over });

  test('list-pools returns its answer as a value', async () => {
    const ctx = context();
    const value = await listPools(event({ query: { all: 'true' } }), ctx);
    expect(value).toMatchObject({ kind: 'PoolList', items: expect.arrayContaining([expect.objectContaining({ name: 'rbd' })]) });
    expect(ctx.status()).toBe(200);
  });

  test('create-image answers through context.status().succeed()', async () => {
    const name = uniqueName('direct');
    const ctx = context();
    await createImage(event({ method: 'POST', body: { pool: 'rbd', name, size: '1Mi' } }), ctx);
    expect(ctx.status()).toBe(201);
    expect(ctx.settle(undefined)).toEqual({ kind: 'value', value: expect.objectContaining({ kind: 'Image', name, size: 2 ** 20 }) });
    const again = context();
    await createImage(event({ method: 'POST', body: { pool: 'rbd', name, size: 2 ** 20 } }), again);
    expect(again.status()).toBe(200);
    await client.removeImage({ pool: 'rbd', name });
  });

  test('a handler throws a mapped error for bad input', async () => {
    await expect(createImage(event({ method: 'POST', body: { pool: 'rbd', name: 'x', size: -1 } }), context())).rejects.toMatchObject({
      code: 'ERR_INVALID_PARAMETER',
    });
  });
});

