/**
 * The OSD frozen (SIGSTOP; a memstore OSD that is killed loses its data) in
 * the middle of creates and deletes, on a cluster of its own: answers are
 * prompt 504s, and after SIGCONT the cluster agrees with every answer given.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { loadCephConfig } from '../../shared/config';
import { startSandbox, stopSandbox, type Sandbox } from '../../shared/local/sandbox';
import { call, startGateway, type TestGateway } from '../helpers/gateway';

const TIMEOUT_S = 2;
let sandbox: Sandbox;
let gw: TestGateway;
let osdPid: number;

beforeAll(async () => {
  sandbox = startSandbox();
  osdPid = Number(fs.readFileSync(path.join(sandbox.dir, 'run', 'osd.0.pid'), 'utf8'));
  gw = await startGateway({ CEPH_CHECK_INTERVAL_SECONDS: '0.5' }, () =>
    loadCephConfig({ env: { CEPH_CONF: sandbox.conf, CEPH_KEYRING: sandbox.keyring, CEPH_TIMEOUT_SECONDS: String(TIMEOUT_S) } }),
  );
}, 60_000);
afterAll(async () => {
  if (osdPid) process.kill(osdPid, 'SIGCONT');
  await gw?.close();
  if (sandbox) stopSandbox(sandbox.dir);
});

const rbd = (...args: string[]) => execFileSync('rbd', ['-c', sandbox.conf, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const names = () => rbd('ls', 'rbd').split('\n').filter(Boolean).sort();

interface Answer {
  op: 'create' | 'delete';
  name: string;
  status: number;
  started: number;
  ms: number;
}

test('creates and deletes around a frozen OSD: 504 within the timeout + 1 s; afterwards every answer holds and nothing is hidden', async () => {
  const doomed = Array.from({ length: 16 }, (_, i) => `frozen-d-${i}`);
  for (const name of doomed) rbd('create', '--size', '1M', `rbd/${name}`);
  const answers: Answer[] = [];
  const t0 = Date.now();
  const send = async (op: Answer['op'], name: string) => {
    const started = Date.now() - t0;
    const res =
      op === 'create'
        ? await call(`${gw.url}/function/create-image`, { body: { pool: 'rbd', name, size: '1Mi' } })
        : await call(`${gw.url}/function/delete-image?pool=rbd&name=${name}`, { method: 'DELETE' });
    answers.push({ op, name, status: res.status, started, ms: Date.now() - t0 - started });
  };
  // A stream of creates and deletes; the OSD freezes while they run.
  const traffic: Promise<void>[] = [];
  for (let i = 0; i < 32; i++) {
    traffic.push(send('create', `frozen-c-${i}`));
    if (i < doomed.length) traffic.push(send('delete', doomed[i]!));
    if (i === 8) {
      await new Promise((resolve) => setTimeout(resolve, 30));
      process.kill(osdPid, 'SIGSTOP');
    }
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
  await Promise.all(traffic);
  const frozenFor = Date.now() - t0;
  process.kill(osdPid, 'SIGCONT');

  // Every answer is a success from before the freeze or a prompt 504.
  for (const a of answers) expect({ a, ok: [200, 201, 504].includes(a.status) }).toEqual({ a, ok: true });
  const timeouts = answers.filter((a) => a.status === 504);
  expect(timeouts.length).toBeGreaterThan(0);
  for (const a of timeouts) expect({ a, prompt: a.ms <= (TIMEOUT_S + 1) * 1000 + 500 }).toEqual({ a, prompt: true });
  expect(frozenFor).toBeLessThan(30_000);

  // Back: wait until the cluster answers, then check every answer against it.
  for (let i = 0; i < 60; i++) {
    try {
      rbd('ls', 'rbd');
      break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  const after = names();
  for (const a of answers.filter((x) => x.op === 'create' && x.status === 201)) expect(after).toContain(a.name);
  for (const a of answers.filter((x) => x.op === 'delete' && x.status === 200)) expect(after).not.toContain(a.name);
  // Whatever a timed-out call left behind (those calls run on and may land
  // late), the function lists what rbd lists once the pool has settled.
  let listed: string[] = [];
  let truth: string[] = [];
  for (let i = 0; i < 40; i++) {
    const before = names();
    const res = await call(`${gw.url}/function/list-images?pool=rbd&limit=10000`);
    truth = names();
    listed = res.status === 200 ? res.body.items.map((x: { name: string }) => x.name).sort() : [];
    if (res.status === 200 && before.join() === truth.join() && listed.join() === truth.join()) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  expect(listed).toEqual(truth);
  process.stderr.write(
    `osd freeze: ${answers.length} answers: ${JSON.stringify(Object.fromEntries([...new Set(answers.map((a) => a.status))].map((s) => [s, answers.filter((a) => a.status === s).length])))}; ` +
      `504s in ${Math.min(...timeouts.map((a) => a.ms))}-${Math.max(...timeouts.map((a) => a.ms))} ms; ${after.length} images after\n`,
  );
}, 120_000);
