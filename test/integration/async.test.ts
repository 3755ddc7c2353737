/**
 * OpenFaaS-style async calls through the local gateway, against the real
 * cluster and a real callback receiver on loopback: results and errors
 * reach the callback with the queue-worker's headers, callbacks are
 * retried, a full queue answers 429, and SIGTERM loses no accepted call.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { rbd, uniqueName } from '../helpers/ceph';
import { freePort, waitFor } from '../helpers/net';
import { call, startGateway, type TestGateway } from '../helpers/gateway';
import { startReceiver, type Receiver } from '../helpers/receiver';

const images = () => rbd('ls', 'rbd').split('\n').filter(Boolean);
const json = (body: string) => JSON.parse(body) as Record<string, any>;

/** POST /async-function/<name>, as a caller would. */
function submit(url: string, name: string, body?: unknown, headers: Record<string, string> = {}) {
  return call(`${url}/async-function/${name}`, { method: 'POST', body, headers });
}

describe('async calls', () => {
  let gw: TestGateway;
  let hook: Receiver;
  beforeAll(async () => {
    gw = await startGateway({ RBD_DELIVERY_BACKOFF: '50ms' });
    hook = await startReceiver();
  });
  afterAll(async () => {
    await gw.close();
    await hook.close();
  });

  test('202 with X-Call-Id, then the result at the callback with the queue-worker headers', async () => {
    const name = uniqueName('async');
    const res = await submit(gw.url, 'create-image', { pool: 'rbd', name, size: '1Mi' }, { 'X-Callback-Url': hook.url });
    expect(res.status).toBe(202);
    const callId = res.headers.get('x-call-id');
    expect(callId).toMatch(/^[\w-]{36}$/);

    const [got] = (await hook.waitFor(1)).filter((r) => r.headers['x-call-id'] === callId);
    expect(got!.headers).toMatchObject({
      'x-function-status': '201',
      'x-function-name': 'create-image',
      'content-type': 'application/json',
    });
    expect(Number(got!.headers['x-duration-seconds'])).toBeGreaterThan(0);
    expect(json(got!.body)).toMatchObject({ kind: 'Image', pool: 'rbd', name, size: 2 ** 20 });
    expect(images()).toContain(name);
    rbd('rm', '--no-progress', `rbd/${name}`);
  });

  test('an error result reaches the callback as its Status', async () => {
    const before = hook.received.length;
    const res = await submit(gw.url, 'delete-image', { pool: 'rbd', name: uniqueName('missing') }, { 'X-Callback-Url': hook.url, 'X-Call-Id': 'caller-chosen-id' });
    expect(res.status).toBe(202);
    expect(res.headers.get('x-call-id')).toBe('caller-chosen-id');
    const got = (await hook.waitFor(before + 1)).at(-1)!;
    expect(got.headers['x-call-id']).toBe('caller-chosen-id');
    expect(got.headers['x-function-status']).toBe('404');
    expect(json(got.body)).toMatchObject({ kind: 'Status', code: 404, reason: 'NotFound' });
  });

  test('runs with POST whatever the function\'s own method, and keeps the path and query', async () => {
    const before = hook.received.length;
    const res = await submit(`${gw.url}`, 'list-pools/extra?all=true', undefined, { 'X-Callback-Url': hook.url });
    expect(res.status).toBe(202);
    const got = (await hook.waitFor(before + 1)).at(-1)!;
    expect(got.headers['x-function-status']).toBe('200');
    expect(json(got.body).items.map((p: { name: string }) => p.name)).toContain('rbd');
  });

  test('a malformed or non-http(s) callback URL is a 400 at submission, and nothing runs', async () => {
    const before = images().length;
    for (const bad of ['ftp://127.0.0.1/x', 'not a url', '/relative/path']) {
      const name = uniqueName('nocall');
      const res = await submit(gw.url, 'create-image', { pool: 'rbd', name, size: '1Mi' }, { 'X-Callback-Url': bad });
      expect(res.status).toBe(400);
      expect(res.body.message).toContain('X-Callback-Url');
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(images().length).toBe(before);
  });

  test('bad input at submission: unknown function 404, wrong method 405, text not a JSON object 400, another content type 415', async () => {
    expect((await submit(gw.url, 'nope', {})).status).toBe(404);
    expect((await call(`${gw.url}/async-function/list-pools`, { method: 'GET' })).status).toBe(405);
    const text = await call(`${gw.url}/async-function/create-image`, { method: 'POST', raw: 'x', headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(400);
    const xml = await call(`${gw.url}/async-function/create-image`, { method: 'POST', raw: '<x/>', headers: { 'content-type': 'application/xml' } });
    expect(xml.status).toBe(415);
  });

  test('without a callback, the result is logged with the call id', async () => {
    const res = await submit(gw.url, 'list-pools');
    const callId = res.headers.get('x-call-id');
    for (let i = 0; i < 50 && !gw.logs.some((l) => l.callId === callId && l.msg === 'async call done (no callback)'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(gw.logs.find((l) => l.callId === callId && l.msg === 'async call done (no callback)')).toMatchObject({ status: 200, function: 'list-pools' });
  });
});

describe('callback delivery', () => {
  test('a failing callback is retried with backoff until it is taken', async () => {
    const gw = await startGateway({ RBD_DELIVERY_BACKOFF: '100ms', RBD_DELIVERY_RETRIES: '3' });
    const hook = await startReceiver({ statuses: [503, 500, 200] });
    try {
      const res = await submit(gw.url, 'list-pools', undefined, { 'X-Callback-Url': hook.url });
      const got = await hook.waitFor(3);
      expect(got.map((r) => r.headers['x-call-id'])).toEqual(Array(3).fill(res.headers.get('x-call-id')));
      // Backoff doubles: ~100 ms, then ~200 ms.
      expect(got[1]!.at - got[0]!.at).toBeGreaterThanOrEqual(90);
      expect(got[2]!.at - got[1]!.at).toBeGreaterThanOrEqual(190);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(hook.received).toHaveLength(3);
    } finally {
      await gw.close();
      await hook.close();
    }
  });

  test('a callback that never succeeds is given up after the retries and logged with the call id', async () => {
    const gw = await startGateway({ RBD_DELIVERY_BACKOFF: '20ms', RBD_DELIVERY_RETRIES: '2' });
    const hook = await startReceiver({ statuses: [500] });
    try {
      const res = await submit(gw.url, 'list-pools', undefined, { 'X-Callback-Url': hook.url });
      const callId = res.headers.get('x-call-id');
      await hook.waitFor(3);
      await gw.runtime.deliveries.settle(5000);
      expect(hook.received).toHaveLength(3);
      expect(gw.logs.find((l) => l.msg === 'async callback failed; giving up')).toMatchObject({ callId, attempts: 3, error: 'HTTP 500', level: 50 });
    } finally {
      await gw.close();
      await hook.close();
    }
  });
});

describe('a full queue', () => {
  test('answers 429 with Retry-After, never a silent drop: every 202 gets its callback', async () => {
    const gw = await startGateway({ RBD_ASYNC_QUEUE_SIZE: '2', RBD_ASYNC_CONCURRENCY: '1' });
    const hook = await startReceiver();
    const names = Array.from({ length: 30 }, () => uniqueName('burst'));
    try {
      const answers = await Promise.all(names.map((name) => submit(gw.url, 'create-image', { pool: 'rbd', name, size: '1Mi' }, { 'X-Callback-Url': hook.url })));
      const accepted = answers.filter((a) => a.status === 202);
      const refused = answers.filter((a) => a.status === 429);
      expect(accepted.length + refused.length).toBe(30);
      expect(refused.length).toBeGreaterThan(0);
      expect(refused[0]!.headers.get('retry-after')).toBe('1');
      expect(refused[0]!.body.message).toContain('RBD_ASYNC_QUEUE_SIZE');

      await hook.waitFor(accepted.length);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const ids = hook.received.map((r) => r.headers['x-call-id']);
      expect(ids.sort()).toEqual(accepted.map((a) => a.headers.get('x-call-id')).sort());
      // Exactly the accepted calls made images.
      const made = names.filter((n) => images().includes(n));
      expect(made).toHaveLength(accepted.length);
      for (const n of made) rbd('rm', '--no-progress', `rbd/${n}`);
    } finally {
      await gw.close();
      await hook.close();
    }
  });
});

describe('SIGTERM with queued work', () => {
  test('the gateway process finishes every accepted call and reports it, then exits 0', async () => {
    const hook = await startReceiver();
    const port = await freePort();
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rbdfn-sigterm-'));
    const child = spawn(process.execPath, [path.resolve(__dirname, '../../dist/shared/local/main.js')], {
      env: { ...process.env, PORT: String(port), TMPDIR: tmp, RBD_ASYNC_CONCURRENCY: '2', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const names = Array.from({ length: 24 }, () => uniqueName('term'));
    try {
      await waitFor(`http://127.0.0.1:${port}/_/ready`, 200, 30_000);
      const answers = await Promise.all(names.map((name) => submit(`http://127.0.0.1:${port}`, 'create-image', { pool: 'rbd', name, size: '1Mi' }, { 'X-Callback-Url': hook.url })));
      expect(answers.every((a) => a.status === 202)).toBe(true);
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect({ code: await exited, stderr }).toEqual({ code: 0, stderr: expect.any(String) });
      // Every accepted call was run and its callback delivered before the exit.
      expect(hook.received.map((r) => r.headers['x-call-id']).sort()).toEqual(answers.map((a) => a.headers.get('x-call-id')).sort());
      expect(hook.received.every((r) => r.headers['x-function-status'] === '201')).toBe(true);
      expect(names.filter((n) => images().includes(n))).toHaveLength(names.length);
    } finally {
      child.kill('SIGKILL');
      for (const n of names.filter((n) => images().includes(n))) rbd('rm', '--no-progress', `rbd/${n}`);
      fs.rmSync(tmp, { recursive: true, force: true });
      await hook.close();
    }
  }, 60_000);

  test('calls still queued at the drain deadline are reported to their callbacks as not run, and logged', async () => {
    const gw = await startGateway({ RBD_ASYNC_CONCURRENCY: '1', RBD_ASYNC_DRAIN_TIMEOUT: '0s' });
    const hook = await startReceiver();
    const names = Array.from({ length: 12 }, () => uniqueName('late'));
    try {
      const answers = [];
      for (const name of names) answers.push(await submit(gw.url, 'create-image', { pool: 'rbd', name, size: '1Mi' }, { 'X-Callback-Url': hook.url }));
      expect(answers.every((a) => a.status === 202)).toBe(true);
      await gw.runtime.drain();
      const byId = new Map(hook.received.map((r) => [r.headers['x-call-id'], r]));
      expect([...byId.keys()].sort()).toEqual(answers.map((a) => a.headers.get('x-call-id')).sort());
      const notRun = hook.received.filter((r) => r.headers['x-function-status'] === '503');
      const ran = hook.received.filter((r) => r.headers['x-function-status'] === '201');
      expect(notRun.length + ran.length).toBe(names.length);
      expect(notRun.length).toBeGreaterThan(0);
      expect(json(notRun[0]!.body).message).toMatch(/^Not run: the gateway shut down/);
      const logged = gw.logs.filter((l) => l.msg === 'async call not run: shutting down').map((l) => l.callId);
      expect(logged.sort()).toEqual(notRun.map((r) => r.headers['x-call-id']).sort());
      // What ran made its image; what was reported made none.
      const made = names.filter((n) => images().includes(n));
      expect(made).toHaveLength(ran.length);
      for (const n of made) rbd('rm', '--no-progress', `rbd/${n}`);
    } finally {
      await hook.close();
    }
  });
});
