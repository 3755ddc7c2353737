/**
 * A cluster that goes away and comes back: readiness follows it, and the
 * runtime serves again by itself. Uses a cluster of its own, since it
 * freezes the monitor.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { loadCephConfig } from '../../shared/config';
import { startSandbox, stopSandbox, type Sandbox } from '../../shared/local/sandbox';
import { call, startGateway, type TestGateway } from '../helpers/gateway';

let sandbox: Sandbox;
let gw: TestGateway;
let monPid: number;

beforeAll(async () => {
  sandbox = startSandbox();
  monPid = Number(fs.readFileSync(path.join(sandbox.dir, 'run', 'mon.a.pid'), 'utf8'));
  gw = await startGateway({ CEPH_CHECK_INTERVAL_SECONDS: '0.3' }, () =>
    loadCephConfig({ env: { CEPH_CONF: sandbox.conf, CEPH_KEYRING: sandbox.keyring, CEPH_TIMEOUT_SECONDS: '2' } }),
  );
});
afterAll(async () => {
  process.kill(monPid, 'SIGCONT');
  await gw?.close();
  if (sandbox) stopSandbox(sandbox.dir);
});

async function readyWithin(expected: number, ms: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < ms) {
    if ((await call(`${gw.url}/_/ready`)).status === expected) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`/_/ready did not become ${expected} within ${ms} ms`);
}

test('a frozen monitor makes the runtime not ready; it recovers by itself when the monitor returns', async () => {
  expect((await call(`${gw.url}/function/list-pools`)).status).toBe(200);
  process.kill(monPid, 'SIGSTOP');
  await readyWithin(503, 6000);
  expect((await call(`${gw.url}/_/health`)).status).toBe(200); // alive, just not ready
  process.kill(monPid, 'SIGCONT');
  const recovered = await readyWithin(200, 10_000);
  expect(recovered).toBeLessThan(10_000);
  expect((await call(`${gw.url}/function/list-pools`)).status).toBe(200);
  expect(execFileSync('rbd', ['-c', sandbox.conf, 'ls', 'rbd'], { encoding: 'utf8' })).toBe('');
}, 60_000);
