/**
 * Least privilege: the functions, through the real runtime over HTTP, running
 * as a cephx user with exactly the caps docs/deploy.md documents, for one pool.
 * That pool works end to end; another pool answers 403 naming the missing
 * caps and the fix, at once, with nothing created or removed there, and the
 * runtime keeps serving. The admin rbd/rados CLIs are the oracles.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ceph, rbd, rbdInfo, sandboxConfig, uniqueName } from '../helpers/ceph';
import { call, startGateway, type TestGateway } from '../helpers/gateway';

const poolA = uniqueName('lp-a');
const poolB = uniqueName('lp-b');
// Unique, so a user left over by an aborted run (with other caps) never collides.
const id = uniqueName('rbd-functions');
const user = `client.${id}`;
// The documented command, for pool A only.
const caps = { mon: 'profile rbd', osd: `profile rbd pool=${poolA}`, mgr: `profile rbd pool=${poolA}` };
// Longest a denied call may take: librados answers EPERM in milliseconds, far
// below CEPH_TIMEOUT_SECONDS (10 s), so anything near that would be a hang.
const PROMPT_MS = 3000;

let tmp: string;
let keyring: string;
let gw: TestGateway;
const fn = (name: string, query = '') => `${gw.url}/function/${name}${query}`;
const images = (pool: string) => rbd('ls', pool).split('\n').filter(Boolean);
/** Every object in a pool, all namespaces, sorted: "nothing was written" made checkable. */
const objects = (pool: string) =>
  execFileSync('rados', ['-c', process.env.CEPH_CONF!, '-p', pool, 'ls', '--all'], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
const metrics = async () => (await fetch(`${gw.url}/metrics`)).text();
const counter = (text: string, series: string) => Number(text.split('\n').find((line) => line.startsWith(`${series} `))?.slice(series.length + 1) ?? 0);

beforeAll(async () => {
  for (const pool of [poolA, poolB]) {
    ceph('osd', 'pool', 'create', pool, '8');
    rbd('pool', 'init', pool);
  }
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rbdfn-lp-'));
  keyring = path.join(tmp, `ceph.${user}.keyring`);
  ceph('auth', 'get-or-create', user, 'mon', caps.mon, 'osd', caps.osd, 'mgr', caps.mgr, '-o', keyring);
  gw = await startGateway({ CEPH_CHECK_INTERVAL_SECONDS: '200ms' }, () => sandboxConfig({ CEPH_ID: id, CEPH_KEYRING: keyring }));
});

afterAll(async () => {
  await gw?.close();
  ceph('auth', 'del', user);
  for (const pool of [poolA, poolB]) ceph('osd', 'pool', 'rm', pool, pool, '--yes-i-really-really-mean-it');
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('the user has exactly the documented caps, and its keyring only its key', () => {
  const [entry] = JSON.parse(ceph('auth', 'get', user, '--format', 'json')) as { entity: string; caps: Record<string, string> }[];
  expect(entry!.entity).toBe(user);
  expect(entry!.caps).toEqual(caps);
  expect(fs.readFileSync(keyring, 'utf8')).toMatch(new RegExp(`^\\[${user}\\]\\n\\tkey = \\S+\\n$`));
});

test('list-pools lists every rbd pool: caps do not hide pools, RBD_POOLS does', async () => {
  const res = await call(fn('list-pools'));
  expect(res.status).toBe(200);
  const names = res.body.items.map((p: { name: string }) => p.name);
  expect(names).toEqual(expect.arrayContaining(['rbd', poolA, poolB]));

  const scoped = await startGateway({ RBD_POOLS: poolA }, () => sandboxConfig({ CEPH_ID: id, CEPH_KEYRING: keyring }));
  try {
    const listed = await call(`${scoped.url}/function/list-pools`);
    expect(listed.body.items).toEqual([{ name: poolA, id: expect.any(Number), applications: ['rbd'] }]);
    const refused = await call(`${scoped.url}/function/list-images?pool=${poolB}`);
    expect(refused.status).toBe(403);
    expect(refused.body.message).toContain('RBD_POOLS');
  } finally {
    await scoped.close();
  }
});

test('its own pool: create, list, delete, with rbd as the oracle', async () => {
  const name = uniqueName('own');
  const created = await call(fn('create-image'), { body: { pool: poolA, name, size: '1Gi' } });
  expect(created.status).toBe(201);
  const info = rbdInfo(`${poolA}/${name}`);
  expect(info).toMatchObject({ size: 2 ** 30 });
  expect(created.body).toMatchObject({ kind: 'Image', pool: poolA, name, id: info.id, size: 2 ** 30 });
  // Idempotent create still works: it needs the stat of an existing image.
  expect((await call(fn('create-image'), { body: { pool: poolA, name, size: '1Gi' } })).status).toBe(200);

  const listed = await call(fn('list-images', `?pool=${poolA}&detail=true`));
  expect(listed.status).toBe(200);
  expect(listed.body.items).toEqual([expect.objectContaining({ pool: poolA, name, id: info.id, watchers: [] })]);

  const deleted = await call(fn('delete-image', `?pool=${poolA}&name=${name}`), { method: 'DELETE' });
  expect(deleted.status).toBe(200);
  expect(deleted.body.reason).toBe('Deleted');
  expect(images(poolA)).not.toContain(name);

  const trashName = uniqueName('own-trash');
  expect((await call(fn('create-image'), { body: { pool: poolA, name: trashName, size: '1Mi' } })).status).toBe(201);
  expect((await call(fn('delete-image'), { body: { pool: poolA, name: trashName, trash: true } })).body.reason).toBe('Trashed');
  const trash = JSON.parse(rbd('trash', 'ls', '--format', 'json', poolA)) as { id: string; name: string }[];
  rbd('trash', 'rm', `${poolA}/${trash.find((t) => t.name === trashName)!.id}`);
});

describe.each([
  ['a fresh pool', () => poolB],
  ['the rbd pool', () => 'rbd'],
])('another pool (%s)', (_label, otherPool) => {
  test('every function is a prompt 403 naming the missing caps and the fix; nothing changes there', async () => {
    const pool = otherPool();
    const existing = uniqueName('theirs');
    rbd('create', '--size', '1M', `${pool}/${existing}`);
    try {
      const before = objects(pool);
      const denied: [string, () => Promise<{ status: number; body: any }>][] = [
        ['create-image', () => call(fn('create-image'), { body: { pool, name: uniqueName('nope'), size: '1Gi' } })],
        ['create-image (name taken)', () => call(fn('create-image'), { body: { pool, name: existing, size: '1Mi' } })],
        ['list-images', () => call(fn('list-images', `?pool=${pool}`))],
        ['list-images (detail)', () => call(fn('list-images', `?pool=${pool}&detail=true`))],
        ['delete-image', () => call(fn('delete-image', `?pool=${pool}&name=${existing}`), { method: 'DELETE' })],
        ['delete-image (missing)', () => call(fn('delete-image', `?pool=${pool}&name=${uniqueName('ghost')}`), { method: 'DELETE' })],
        ['delete-image (trash)', () => call(fn('delete-image'), { body: { pool, name: existing, trash: true } })],
      ];
      for (const [what, run] of denied) {
        const started = Date.now();
        const res = await run();
        const elapsed = Date.now() - started;
        // One assertion per call, so a failure names the call and shows the answer.
        expect({ what, status: res.status, elapsedUnderLimit: elapsed < PROMPT_MS, body: res.body }).toEqual({
          what,
          status: 403,
          elapsedUnderLimit: true,
          body: {
            kind: 'Status',
            apiVersion: 'v1',
            status: 'Failure',
            code: 403,
            reason: 'Forbidden',
            message: expect.stringContaining(`Ceph user ${user} lacks the caps for pool "${pool}"`),
            details: expect.objectContaining({ cephCode: 'EPERM', pool, op: expect.stringMatching(/^rbd_/) }),
          },
        });
        expect(res.body.message).toContain(`osd 'profile rbd pool=${pool}'`);
        expect(res.body.message).toContain(`ceph auth caps ${user} mon 'profile rbd'`);
      }
      expect(objects(pool)).toEqual(before);
      expect(images(pool)).toContain(existing);
    } finally {
      rbd('rm', `${pool}/${existing}`);
    }
  });
});

describe('afterwards, the runtime keeps serving', () => {
  test('readiness, health checks as the user and its own pool still work', async () => {
    const before = counter(await metrics(), 'rbd_ceph_operation_duration_seconds_count{op="listPools",outcome="ok"}');
    // The readiness check (osd pool ls, every 200 ms here) passes with mon 'profile rbd'.
    await new Promise((resolve) => setTimeout(resolve, 700));
    for (const route of ['/_/health', '/_/ready', '/health/readiness']) expect((await call(`${gw.url}${route}`)).status).toBe(200);
    expect((await call(`${gw.url}/healthz`)).body.ceph).toBe('connected');

    const text = await metrics();
    expect(counter(text, 'rbd_ceph_operation_duration_seconds_count{op="listPools",outcome="ok"}')).toBeGreaterThan(before);
    expect(counter(text, 'rbd_ceph_operation_duration_seconds_count{op="createImage",outcome="EPERM"}')).toBeGreaterThanOrEqual(2);
    expect(counter(text, 'rbd_function_requests_total{function="create-image",method="POST",status="403"}')).toBeGreaterThanOrEqual(2);
    expect(text).not.toMatch(/status="5\d\d"/);
    expect(text).toContain('rbd_ceph_ready 1');

    const name = uniqueName('after');
    expect((await call(fn('create-image'), { body: { pool: poolA, name, size: '1Mi' } })).status).toBe(201);
    expect(images(poolA)).toContain(name);
    expect((await call(fn('delete-image', `?pool=${poolA}&name=${name}`), { method: 'DELETE' })).status).toBe(200);
    expect(images(poolA)).toEqual([]);
  });
});
