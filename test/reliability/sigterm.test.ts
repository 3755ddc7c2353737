/**
 * SIGTERM to a create-image process (the bundle, as the image runs it) with
 * 32 creates in flight: each is answered, requests after the signal get 503,
 * the process exits 0, and no half-made image is left. The creates are held
 * in flight by freezing the OSD of a cluster of its own for a moment.
 */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { startSandbox, stopSandbox, type Sandbox } from '../../shared/local/sandbox';
import { uniqueName } from '../helpers/ceph';
import { waitFor } from '../helpers/net';
import { FUNCTION_BUNDLE, spawnRuntime } from '../helpers/process';

let sandbox: Sandbox;
let osdPid = 0;

beforeAll(() => {
  sandbox = startSandbox();
  osdPid = Number(fs.readFileSync(path.join(sandbox.dir, 'run', 'osd.0.pid'), 'utf8'));
}, 60_000);
afterAll(() => {
  if (osdPid) process.kill(osdPid, 'SIGCONT');
  if (sandbox) stopSandbox(sandbox.dir);
});
const rbd = (...args: string[]) => execFileSync('rbd', ['-c', sandbox.conf, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** One POST; a connection refused or reset comes back as its error code. */
function post(port: number, body: unknown, agent: http.Agent | false): Promise<{ status: number | string; body?: any }> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('error', (err: NodeJS.ErrnoException) => resolve({ status: err.code ?? 'error' }));
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ status: err.code ?? 'error' }));
    req.end(JSON.stringify(body));
  });
}

test('SIGTERM with 32 creates in flight: all answered, later requests 503, exit 0, no half-made image', async () => {
  const fn = await spawnRuntime([FUNCTION_BUNDLE, 'create-image'], { CEPH_CONF: sandbox.conf, CEPH_KEYRING: sandbox.keyring });
  const { child, port } = fn;
  try {
    await waitFor(`http://127.0.0.1:${port}/_/ready`, 200, 20_000);
    const prefix = uniqueName('sigterm');
    // A kept-alive socket from before the signal, as a proxy would hold one.
    const kept = new http.Agent({ keepAlive: true, maxSockets: 1 });
    expect((await post(port, { pool: 'rbd', name: `${prefix}-warm`, size: '1Mi' }, kept)).status).toBe(201);

    process.kill(osdPid, 'SIGSTOP');
    const inFlight = Array.from({ length: 32 }, (_, i) => post(port, { pool: 'rbd', name: `${prefix}-${i}`, size: '1Gi' }, false));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    // "Later" is once the process has taken the signal: health says so.
    await waitFor(`http://127.0.0.1:${port}/_/health`, 503, 5000);
    const late = await Promise.all([post(port, { pool: 'rbd', name: `${prefix}-late-a`, size: '1Mi' }, kept), post(port, { pool: 'rbd', name: `${prefix}-late-b`, size: '1Mi' }, false)]);
    process.kill(osdPid, 'SIGCONT');
    const answers = await Promise.all(inFlight);
    const [code] = await exited;

    // After the signal: a 503 while the process drains, or (once it has
    // closed its socket) a refused connection. Either way nothing is done.
    for (const a of late) {
      if (typeof a.status === 'number') expect(a).toMatchObject({ status: 503, body: { kind: 'Status', reason: 'ServiceUnavailable' } });
      else expect(['ECONNREFUSED', 'ECONNRESET']).toContain(a.status);
    }
    expect(late.map((a) => a.status)).toEqual([503, 503]);
    const statuses = answers.map((a) => a.status);
    // Every one in flight completes and is answered.
    expect(statuses).toEqual(Array(32).fill(201));
    expect(code).toBe(0);

    const created = answers.map((a, i) => (a.status === 201 ? `${prefix}-${i}` : undefined)).filter(Boolean).sort();
    const present = rbd('ls', 'rbd').split('\n').filter((n) => n.startsWith(`${prefix}-`) && n !== `${prefix}-warm`).sort();
    expect(present).toEqual(created);
    // Whole images: each opens and has its size.
    for (const name of present) expect(JSON.parse(rbd('info', '--format', 'json', `rbd/${name}`)).size).toBe(2 ** 30);
    process.stderr.write(`sigterm: ${created.length} of 32 in flight created and answered; after the signal: ${late.map((a) => a.status).join(', ')}; exit ${code}\n`);
    for (const name of [...present, `${prefix}-warm`]) rbd('rm', '--no-progress', `rbd/${name}`);
  } finally {
    fn.kill();
  }
}, 60_000);
