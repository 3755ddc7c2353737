/**
 * One function as its own process: from the compiled build (npm run
 * function -- <name>) and from the bundle the image runs
 * (dist/bundle/function.js): lock file, catch-all routing, health, and a
 * clean exit on SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { call } from '../helpers/gateway';
import { freePort } from '../helpers/net';

const ENTRIES = [
  ['npm run function -- list-pools', path.resolve(__dirname, '../../dist/shared/runtime/main.js')],
  ['dist/bundle/function.js list-pools', path.resolve(__dirname, '../../dist/bundle/function.js')],
];

async function until<T>(probe: () => Promise<T | undefined>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not ready within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.each(ENTRIES)('%s', (_title, MAIN) => {
  let child: ChildProcess;
  let url: string;
  let tmp: string;
  let log = '';

  beforeAll(async () => {
    expect(fs.existsSync(MAIN)).toBe(true); // npm test builds and bundles first (pretest)
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rbdfn-standalone-'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, [MAIN, 'list-pools'], {
      env: { PATH: process.env.PATH, CEPH_CONF: process.env.CEPH_CONF, PORT: String(port), TMPDIR: tmp, OPENFAAS_SECRETS_DIR: tmp },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk) => (log += chunk));
    child.stderr!.on('data', (chunk) => (log += chunk));
    await until(async () => ((await fetch(`${url}/_/ready`)).status === 200 ? true : undefined), 15_000);
  });
  afterAll(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('writes $TMPDIR/.lock once ready', () => {
    expect(fs.readFileSync(path.join(tmp, '.lock'), 'utf8').trim()).toBe(String(child.pid));
  });

  test('serves the handler at / and every other path, by GET and POST', async () => {
    for (const [p, init] of [['/', {}], ['/any/path/at/all', {}], ['/', { body: { all: true } }]] as const) {
      const res = await call(`${url}${p}`, init);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ kind: 'PoolList', apiVersion: 'v1', items: expect.arrayContaining([expect.objectContaining({ name: 'rbd' })]) });
    }
    expect((await call(`${url}/`, { method: 'PUT' })).status).toBe(405);
    for (const p of ['/_/health', '/health/liveness', '/health/readiness', '/metrics']) expect((await fetch(`${url}${p}`)).status).toBe(200);
  });

  test('logs a failed request as one JSON line with function, status, duration and call id; a read that succeeds not at info', async () => {
    await call(`${url}/`, { headers: { 'X-Call-Id': 'standalone-read' } });
    await call(`${url}/`, { method: 'PUT', headers: { 'X-Call-Id': 'standalone-log-check' } });
    await until(async () => (log.includes('standalone-log-check') ? true : undefined), 2000);
    const line = JSON.parse(log.split('\n').find((l) => l.includes('standalone-log-check'))!);
    expect(line).toMatchObject({ level: 40, function: 'list-pools', method: 'PUT', status: 405, callId: 'standalone-log-check', durationMs: expect.any(Number) });
    // Lines are written in order, synchronously: the read's would be there by now.
    expect(log).not.toContain('standalone-read');
  });

  test('SIGTERM drains, removes the lock file and exits 0', async () => {
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    expect(fs.existsSync(path.join(tmp, '.lock'))).toBe(false);
    expect(log).toContain('drained');
  });
});
