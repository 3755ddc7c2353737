/**
 * The image lifecycle functions (get, resize, snapshots, rollback, clone,
 * flatten, trash) through the local gateway, against the real sandbox
 * cluster, with the rbd CLI as the oracle.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { ceph, rbd, rbdInfo, startWatch, stopWatch, uniqueName } from '../helpers/ceph';
import { call, expectStatus, startGateway, type TestGateway } from '../helpers/gateway';
import { startReceiver, type Receiver } from '../helpers/receiver';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
let gw: TestGateway;
const fn = (name: string, query = '') => `${gw.url}/function/${name}${query}`;
const post = (name: string, body: Record<string, unknown>) => call(fn(name), { body });

interface CliSnap {
  id: number;
  name: string;
  size: number;
  protected: string;
  timestamp: string;
}
const snaps = (spec: string): CliSnap[] => JSON.parse(rbd('snap', 'ls', '--format', 'json', spec));
const children = (spec: string): { pool: string; pool_namespace: string; image: string }[] => JSON.parse(rbd('children', '--format', 'json', spec));
const trash = (pool: string): { id: string; name: string; source: string; deleted_at: string; status: string }[] =>
  JSON.parse(rbd('trash', 'ls', '--all', '--long', '--format', 'json', pool));
const imagesIn = (pool: string) => rbd('ls', pool).split('\n').filter(Boolean);
const parentOf = (spec: string) => (rbdInfo(spec) as { parent?: { pool: string; pool_namespace: string; image: string; snapshot: string } }).parent;


/** An image with data in its first `mib` MiB (rbd bench writes real objects). */
function imageWithData(name: string, size = '64M', mib = 8): string {
  rbd('create', '--size', size, `rbd/${name}`);
  if (mib > 0) rbd('bench', '--io-type', 'write', '--io-size', '1M', '--io-total', `${mib}M`, '--io-pattern', 'seq', `rbd/${name}`);
  return name;
}

/** SHA-256 of an image's (or snapshot's) content, from rbd export. */
function contentHash(spec: string): string {
  const data = execFileSync('rbd', ['-c', process.env.CEPH_CONF!, 'export', '--no-progress', spec, '-'], { maxBuffer: 256 * MiB, stdio: ['ignore', 'pipe', 'pipe'] });
  return createHash('sha256').update(data).digest('hex');
}

/** Removes an image with its snapshots, clones first; ignores what is already gone. */
function cleanup(...specs: string[]): void {
  for (const spec of specs) {
    try {
      rbd('snap', 'purge', '--no-progress', spec);
    } catch {
      // the test removed them itself, or never made them
    }
    try {
      rbd('rm', '--no-progress', spec);
    } catch {
      // already gone
    }
  }
}

/** Sets the osdmap's require_min_compat_client, which decides librbd's clone format. */
function requireClients(release: 'luminous' | 'mimic'): void {
  ceph('osd', 'set-require-min-compat-client', release, '--yes-i-really-mean-it');
}

beforeAll(async () => {
  gw = await startGateway();
});
afterAll(() => gw.close());

describe('get-image', () => {
  test('answers what rbd info shows, with usage as rbd du counts it', async () => {
    const name = imageWithData(uniqueName('get'), '64M', 8);
    try {
      const res = await call(fn('get-image', `?pool=rbd&name=${name}`));
      expect(res.status).toBe(200);
      const info = rbdInfo(`rbd/${name}`);
      expect(res.body).toEqual({
        kind: 'Image',
        apiVersion: 'v1',
        pool: 'rbd',
        namespace: '',
        name,
        id: info.id,
        size: 64 * MiB,
        objectSize: info.object_size,
        features: info.features,
        createdAt: expect.stringMatching(/^\d{4}-/),
        snapshots: 0,
        watchers: [],
        parent: null,
        dataPool: null,
        stripeUnit: info.object_size,
        stripeCount: 1,
      });
      expect(res.body.usedBytes).toBeUndefined();

      rbd('snap', 'create', `rbd/${name}@s1`);
      rbd('bench', '--io-type', 'write', '--io-size', '1M', '--io-total', '4M', '--io-pattern', 'seq', `rbd/${name}`);
      const used = await post('get-image', { pool: 'rbd', name, usage: true });
      expect(used.status).toBe(200);
      // rbd du's <TOTAL> line: the snapshot's row plus the head's (its JSON has no total for one image).
      const du = JSON.parse(rbd('du', '--format', 'json', `rbd/${name}`)) as { images: { used_size: number }[] };
      expect(du.images).toHaveLength(2);
      expect(used.body.usedBytes).toBe(du.images.reduce((sum, row) => sum + row.used_size, 0));
      expect(used.body.usedBytes).toBeGreaterThanOrEqual(8 * MiB);
      expect(used.body.snapshots).toBe(1);
    } finally {
      cleanup(`rbd/${name}`);
    }
  });

  test('missing image 404, bad parameters 400', async () => {
    expectStatus((await call(fn('get-image', '?pool=rbd&name=nope-nope'))).body, 404, 'NotFound');
    expectStatus((await call(fn('get-image', '?pool=rbd&name=a@b'))).body, 400, 'BadRequest');
    expectStatus((await call(fn('get-image', '?pool=rbd'))).body, 400, 'BadRequest');
    expectStatus((await call(fn('get-image', '?pool=rbd&name=x&usage=maybe'))).body, 400, 'BadRequest');
    expectStatus((await call(fn('get-image', '?pool=rbd&name=x&size=1'))).body, 400, 'BadRequest');
  });
});

describe('resize-image', () => {
  test('grows, keeps the same size, refuses to shrink without allowShrink, shrinks with it', async () => {
    const name = uniqueName('rs');
    rbd('create', '--size', '1G', `rbd/${name}`);
    try {
      const grown = await post('resize-image', { pool: 'rbd', name, size: '2Gi' });
      expect(grown.status).toBe(200);
      expect(grown.body).toMatchObject({ kind: 'Image', name, size: 2 * GiB, watchers: [] }); // not the watch of its own open
      expect(rbdInfo(`rbd/${name}`).size).toBe(2 * GiB);
      expect(grown.body).toEqual((await post('get-image', { pool: 'rbd', name })).body);

      const same = await post('resize-image', { pool: 'rbd', name, size: 2 * GiB });
      expect(same.status).toBe(200);
      expect(same.body).toEqual(grown.body);

      const refused = await post('resize-image', { pool: 'rbd', name, size: '1Gi' });
      expectStatus(refused.body, 409, 'WouldShrink');
      expect(refused.body.details).toMatchObject({ currentSize: 2 * GiB, requestedSize: GiB });
      expect(refused.body.message).toContain(String(2 * GiB));
      expect(rbdInfo(`rbd/${name}`).size).toBe(2 * GiB);

      const shrunk = await post('resize-image', { pool: 'rbd', name, size: '1Gi', allowShrink: true });
      expect(shrunk.status).toBe(200);
      expect(shrunk.body.size).toBe(GiB);
      expect(rbdInfo(`rbd/${name}`).size).toBe(GiB);
    } finally {
      cleanup(`rbd/${name}`);
    }
  });

  test('grows an image in use, but does not shrink one (409 InUse)', async () => {
    const name = uniqueName('rsw');
    rbd('create', '--size', '1G', `rbd/${name}`);
    const watcher = await startWatch(`rbd/${name}`);
    try {
      const grown = await post('resize-image', { pool: 'rbd', name, size: '3Gi' });
      expect(grown.status).toBe(200);
      expect(grown.body.watchers).toHaveLength(1); // rbd watch's
      expect(rbdInfo(`rbd/${name}`).size).toBe(3 * GiB);
      const shrink = await post('resize-image', { pool: 'rbd', name, size: '1Gi', allowShrink: true });
      expectStatus(shrink.body, 409, 'InUse');
      expect(shrink.body.details.watchers).toHaveLength(1);
      expect(rbdInfo(`rbd/${name}`).size).toBe(3 * GiB);
    } finally {
      await stopWatch(watcher);
      cleanup(`rbd/${name}`);
    }
  });

  test('missing image 404; bad sizes 400 and nothing changes', async () => {
    expectStatus((await post('resize-image', { pool: 'rbd', name: 'nope-nope', size: '1Gi' })).body, 404, 'NotFound');
    const name = uniqueName('rsb');
    rbd('create', '--size', '1G', `rbd/${name}`);
    try {
      for (const size of [0, -1, '1.5', 'lots', 2 ** 60, undefined]) {
        expectStatus((await post('resize-image', { pool: 'rbd', name, size })).body, 400, 'BadRequest');
      }
      expect(rbdInfo(`rbd/${name}`).size).toBe(GiB);
    } finally {
      cleanup(`rbd/${name}`);
    }
  });
});

describe('snapshots', () => {
  test('create, list, create again (200), protect, delete', async () => {
    const name = uniqueName('sn');
    rbd('create', '--size', '1G', `rbd/${name}`);
    try {
      const created = await post('create-snapshot', { pool: 'rbd', image: name, snapshot: 's1' });
      expect(created.status).toBe(201);
      const [cli] = snaps(`rbd/${name}`);
      expect(created.body).toEqual({
        kind: 'Snapshot',
        apiVersion: 'v1',
        pool: 'rbd',
        namespace: '',
        image: name,
        name: 's1',
        id: cli!.id,
        size: GiB,
        createdAt: expect.stringMatching(/^\d{4}-/),
        protected: false,
      });
      expect(Math.floor(Date.parse(created.body.createdAt) / 1000) * 1000).toBe(Date.parse(cli!.timestamp));

      const again = await post('create-snapshot', { pool: 'rbd', image: name, snapshot: 's1' });
      expect(again.status).toBe(200);
      expect(again.body).toEqual(created.body);
      // protect=true on the existing snapshot protects it: the state asked for.
      const protectedAgain = await post('create-snapshot', { pool: 'rbd', image: name, snapshot: 's1', protect: true });
      expect(protectedAgain.status).toBe(200);
      expect(protectedAgain.body.protected).toBe(true);
      expect(snaps(`rbd/${name}`)[0]!.protected).toBe('true');

      const s2 = await post('create-snapshot', { pool: 'rbd', image: name, snapshot: 's2', protect: true });
      expect(s2.status).toBe(201);
      expect(s2.body.protected).toBe(true);

      const list = await call(fn('list-snapshots', `?pool=rbd&image=${name}`));
      expect(list.status).toBe(200);
      expect(list.body).toEqual({
        kind: 'SnapshotList',
        apiVersion: 'v1',
        items: snaps(`rbd/${name}`).map((s) => ({
          name: s.name,
          id: s.id,
          size: s.size,
          createdAt: expect.any(String),
          protected: s.protected === 'true',
          children: 0,
        })),
      });
      expect(list.body.items.map((s: { name: string }) => s.name)).toEqual(['s1', 's2']);

      const refused = await call(fn('delete-snapshot', `?pool=rbd&image=${name}&snapshot=s1`), { method: 'DELETE' });
      expectStatus(refused.body, 409, 'Protected');
      expect(snaps(`rbd/${name}`)).toHaveLength(2);
      const deleted = await call(fn('delete-snapshot', `?pool=rbd&image=${name}&snapshot=s1&unprotect=true`), { method: 'DELETE' });
      expect(deleted.status).toBe(200);
      expect(deleted.body).toMatchObject({ kind: 'Status', status: 'Success', reason: 'Deleted', details: { pool: 'rbd', image: name, snapshot: 's1' } });
      expect(snaps(`rbd/${name}`).map((s) => s.name)).toEqual(['s2']);
      expectStatus((await post('delete-snapshot', { pool: 'rbd', image: name, snapshot: 's1' })).body, 404, 'NotFound');
    } finally {
      cleanup(`rbd/${name}`);
    }
  });

  test('50 identical snapshot creates make one snapshot: one 201, 49 200s', async () => {
    const name = uniqueName('sr');
    rbd('create', '--size', '1G', `rbd/${name}`);
    try {
      const answers = await Promise.all(Array.from({ length: 50 }, () => post('create-snapshot', { pool: 'rbd', image: name, snapshot: 'race' })));
      const codes = answers.map((a) => a.status).sort();
      expect(codes.filter((c) => c === 201)).toHaveLength(1);
      expect(codes.filter((c) => c === 200)).toHaveLength(49);
      expect(snaps(`rbd/${name}`).map((s) => s.name)).toEqual(['race']);
      expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    } finally {
      cleanup(`rbd/${name}`);
    }
  });

  test('names, missing images and snapshots', async () => {
    const name = uniqueName('snb');
    rbd('create', '--size', '1M', `rbd/${name}`);
    try {
      for (const snapshot of ['a/b', 'a@b', '', ' x', 'x'.repeat(251)]) {
        expectStatus((await post('create-snapshot', { pool: 'rbd', image: name, snapshot })).body, 400, 'BadRequest');
      }
      expect(snaps(`rbd/${name}`)).toEqual([]);
      expectStatus((await post('create-snapshot', { pool: 'rbd', image: 'nope-nope', snapshot: 's' })).body, 404, 'NotFound');
      expectStatus((await call(fn('list-snapshots', '?pool=rbd&image=nope-nope'))).body, 404, 'NotFound');
      expectStatus((await post('delete-snapshot', { pool: 'rbd', image: name, snapshot: 'nope' })).body, 404, 'NotFound');
      expectStatus((await post('create-snapshot', { pool: 'rbd', name, snapshot: 's' })).body, 400, 'BadRequest');
    } finally {
      cleanup(`rbd/${name}`);
    }
  });
});

describe('rollback-image', () => {
  test('restores the snapshot, its size included; refuses an image in use and a missing snapshot', async () => {
    const name = imageWithData(uniqueName('rb'), '64M', 4);
    try {
      rbd('snap', 'create', `rbd/${name}@before`);
      rbd('resize', '--size', '128M', `rbd/${name}`);
      rbd('bench', '--io-type', 'write', '--io-size', '1M', '--io-total', '8M', '--io-pattern', 'seq', `rbd/${name}`);
      const atSnapshot = contentHash(`rbd/${name}@before`);
      expect(contentHash(`rbd/${name}`)).not.toBe(atSnapshot);

      expectStatus((await post('rollback-image', { pool: 'rbd', name, snapshot: 'nope' })).body, 404, 'NotFound');
      const watcher = await startWatch(`rbd/${name}`);
      try {
        expectStatus((await post('rollback-image', { pool: 'rbd', name, snapshot: 'before' })).body, 409, 'InUse');
      } finally {
        await stopWatch(watcher);
      }
      expect(rbdInfo(`rbd/${name}`).size).toBe(128 * MiB);

      const res = await post('rollback-image', { pool: 'rbd', name, snapshot: 'before' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ kind: 'Image', name, size: 64 * MiB, snapshots: 1 });
      expect(res.body).toEqual((await post('get-image', { pool: 'rbd', name })).body); // read from the handle that rolled back: as get-image sees it
      expect(rbdInfo(`rbd/${name}`).size).toBe(64 * MiB);
      expect(contentHash(`rbd/${name}`)).toBe(atSnapshot);
    } finally {
      cleanup(`rbd/${name}`);
    }
  });
});

describe('clones', () => {
  afterAll(() => requireClients('luminous'));

  test('v2 clones (mimic clients required): no protection, parent shown, idempotent, flatten', async () => {
    requireClients('mimic');
    const base = imageWithData(uniqueName('base'), '32M', 4);
    const clone = uniqueName('cl');
    try {
      rbd('snap', 'create', `rbd/${base}@gold`);
      const res = await post('clone-image', { pool: 'rbd', image: base, snapshot: 'gold', name: clone });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ kind: 'Image', name: clone, size: 32 * MiB, parent: { pool: 'rbd', namespace: '', image: base, snapshot: 'gold' } });
      expect(res.body.warnings).toBeUndefined();
      expect(res.headers.get('warning')).toBeNull();
      expect(parentOf(`rbd/${clone}`)).toMatchObject({ pool: 'rbd', image: base, snapshot: 'gold' });
      expect(snaps(`rbd/${base}`)[0]!.protected).toBe('false');
      expect(children(`rbd/${base}@gold`)).toEqual([{ pool: 'rbd', pool_namespace: '', image: clone }]);

      const again = await post('clone-image', { pool: 'rbd', image: base, snapshot: 'gold', name: clone });
      expect(again.status).toBe(200);
      expect(again.body).toEqual(res.body);
      const listed = await call(fn('list-snapshots', `?pool=rbd&image=${base}`));
      expect(listed.body.items[0]).toMatchObject({ name: 'gold', children: 1 });

      const busy = await post('delete-snapshot', { pool: 'rbd', image: base, snapshot: 'gold' });
      expectStatus(busy.body, 409, 'HasChildren');
      expect(busy.body.details.children).toEqual([`rbd/${clone}`]);
      expect(busy.body.message).toContain(`rbd/${clone}`);

      const flat = await post('flatten-image', { pool: 'rbd', name: clone });
      expect(flat.status).toBe(200);
      expect(flat.body.parent).toBeNull();
      expect(parentOf(`rbd/${clone}`)).toBeUndefined();
      const flatAgain = await post('flatten-image', { pool: 'rbd', name: clone });
      expect(flatAgain.status).toBe(200);
      expect(flatAgain.body).toEqual(flat.body);
      expect((await post('delete-snapshot', { pool: 'rbd', image: base, snapshot: 'gold' })).status).toBe(200);
    } finally {
      cleanup(`rbd/${clone}`, `rbd/${base}`);
    }
  });

  test('v1 clones (older clients allowed): the snapshot is protected first, and the answer says so', async () => {
    requireClients('luminous');
    const base = imageWithData(uniqueName('base1'), '16M', 0);
    const clone = uniqueName('cl1');
    try {
      rbd('snap', 'create', `rbd/${base}@gold`);
      const res = await post('clone-image', { pool: 'rbd', image: base, snapshot: 'gold', name: clone, features: ['layering'] });
      expect(res.status).toBe(201);
      expect(res.body.parent).toMatchObject({ image: base, snapshot: 'gold' });
      expect(res.body.features).toEqual(['layering']);
      expect(res.body.warnings).toEqual([expect.stringContaining('Protected snapshot')]);
      expect(res.headers.get('warning')).toMatch(/^299 rbd-functions "Protected snapshot/);
      expect(snaps(`rbd/${base}`)[0]!.protected).toBe('true');
      // v1: the clone keeps the snapshot protected and busy.
      const busy = await post('delete-snapshot', { pool: 'rbd', image: base, snapshot: 'gold', unprotect: true });
      expectStatus(busy.body, 409, 'HasChildren');
    } finally {
      cleanup(`rbd/${clone}`);
      try {
        rbd('snap', 'unprotect', `rbd/${base}@gold`);
      } catch {
        // not protected, or already gone
      }
      cleanup(`rbd/${base}`);
    }
  });

  test('into another pool and namespace; RBD_POOLS covers both pools', async () => {
    requireClients('mimic');
    const base = imageWithData(uniqueName('basex'), '8M', 0);
    const pool = uniqueName('clpool');
    ceph('osd', 'pool', 'create', pool, '4');
    rbd('pool', 'init', pool);
    rbd('namespace', 'create', `${pool}/ns1`);
    const clone = uniqueName('clx');
    const limited = await startGateway({ RBD_POOLS: 'rbd' });
    try {
      rbd('snap', 'create', `rbd/${base}@gold`);
      const body = { pool: 'rbd', image: base, snapshot: 'gold', name: clone, targetPool: pool, targetNamespace: 'ns1' };
      const forbidden = await call(`${limited.url}/function/clone-image`, { body });
      expectStatus(forbidden.body, 403, 'Forbidden');
      expect(imagesIn(`${pool}/ns1`)).toEqual([]);
      const res = await post('clone-image', body);
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ pool, namespace: 'ns1', name: clone, parent: { pool: 'rbd', namespace: '', image: base, snapshot: 'gold' } });
      expect(parentOf(`${pool}/ns1/${clone}`)).toMatchObject({ pool: 'rbd', image: base, snapshot: 'gold' });
    } finally {
      await limited.close();
      cleanup(`${pool}/ns1/${clone}`, `rbd/${base}`);
      ceph('osd', 'pool', 'rm', pool, pool, '--yes-i-really-really-mean-it');
    }
  });

  test('missing parent or snapshot 404; a name holding another image 409', async () => {
    requireClients('mimic');
    const base = imageWithData(uniqueName('basem'), '8M', 0);
    const other = uniqueName('other');
    rbd('create', '--size', '1M', `rbd/${other}`);
    try {
      rbd('snap', 'create', `rbd/${base}@gold`);
      expectStatus((await post('clone-image', { pool: 'rbd', image: 'nope-nope', snapshot: 'gold', name: uniqueName('x') })).body, 404, 'NotFound');
      expectStatus((await post('clone-image', { pool: 'rbd', image: base, snapshot: 'nope', name: uniqueName('x') })).body, 404, 'NotFound');
      const taken = await post('clone-image', { pool: 'rbd', image: base, snapshot: 'gold', name: other });
      expectStatus(taken.body, 409, 'AlreadyExists');
      expect(parentOf(`rbd/${other}`)).toBeUndefined();
      expectStatus((await post('clone-image', { pool: 'rbd', image: base, snapshot: 'gold', name: 'a/b' })).body, 400, 'BadRequest');
      expectStatus((await post('clone-image', { pool: 'rbd', image: base, snapshot: 'gold', name: uniqueName('f'), features: ['warp'] })).body, 400, 'BadRequest');
      expect(children(`rbd/${base}@gold`)).toEqual([]);
    } finally {
      cleanup(`rbd/${other}`, `rbd/${base}`);
    }
  });

  test('a clone racing a delete-snapshot: the clone exists with its parent, or the delete succeeded; never a 5xx', async () => {
    requireClients('mimic');
    for (let round = 0; round < 5; round++) {
      const base = imageWithData(uniqueName('race'), '8M', 0);
      const clone = uniqueName('rc');
      rbd('snap', 'create', `rbd/${base}@gold`);
      try {
        const [cloned, deleted] = await Promise.all([
          post('clone-image', { pool: 'rbd', image: base, snapshot: 'gold', name: clone }),
          post('delete-snapshot', { pool: 'rbd', image: base, snapshot: 'gold' }),
        ]);
        expect([201, 404]).toContain(cloned.status);
        expect([200, 409]).toContain(deleted.status);
        const exists = imagesIn('rbd').includes(clone);
        if (cloned.status === 201 && deleted.status === 200) {
          // Both landed: librbd kept the snapshot, in its trash namespace, for the clone.
          expect(parentOf(`rbd/${clone}`)).toMatchObject({ image: base });
          const all = JSON.parse(rbd('snap', 'ls', '--all', '--format', 'json', `rbd/${base}`)) as { namespace: { type: string; original_name?: string } }[];
          expect(all.map((s) => s.namespace)).toEqual([{ type: 'trash', original_name: 'gold' }]);
        } else if (cloned.status === 201) {
          expect(exists).toBe(true);
          expect(parentOf(`rbd/${clone}`)).toMatchObject({ image: base, snapshot: 'gold' });
        } else {
          expect(exists).toBe(false);
          expect(deleted.status).toBe(200);
        }
        if (deleted.status === 409) expectStatus(deleted.body, 409, 'HasChildren');
        expect(cloned.status === 201 || deleted.status === 200).toBe(true);
      } finally {
        cleanup(`rbd/${clone}`, `rbd/${base}`);
      }
    }
  });
});

describe('trash', () => {
  test('list, restore (same name, new name, taken name, unknown id), purge', async () => {
    const a = uniqueName('ta');
    const b = uniqueName('tb');
    const c = uniqueName('tc');
    for (const name of [a, b, c]) rbd('create', '--size', '4M', `rbd/${name}`);
    rbd('trash', 'mv', `rbd/${a}`);
    rbd('trash', 'mv', `rbd/${b}`);
    rbd('trash', 'mv', '--expires-at', '2099-01-01', `rbd/${c}`);
    const ids = Object.fromEntries(trash('rbd').map((e) => [e.name, e.id]));
    try {
      const listed = await call(fn('list-trash', '?pool=rbd'));
      expect(listed.status).toBe(200);
      expect(listed.body.kind).toBe('TrashList');
      const mine = listed.body.items.filter((e: { name: string }) => [a, b, c].includes(e.name));
      expect(mine.map((e: { name: string }) => e.name)).toEqual([a, b, c]);
      expect(mine[0]).toEqual({ id: ids[a], name: a, deletedAt: expect.stringMatching(/^\d{4}-/), deferredUntil: expect.any(String), source: 'user' });
      // rbd stores --expires-at 2099-01-01 as a second before it.
      expect(Math.abs(Date.parse(mine[2].deferredUntil) - Date.parse('2099-01-01T00:00:00Z'))).toBeLessThanOrEqual(1000);

      const restored = await post('restore-image', { pool: 'rbd', id: ids[a] });
      expect(restored.status).toBe(200);
      expect(restored.body).toMatchObject({ kind: 'Image', name: a, id: ids[a], size: 4 * MiB });
      expect(imagesIn('rbd')).toContain(a);

      rbd('create', '--size', '1M', `rbd/${b}`);
      const taken = await post('restore-image', { pool: 'rbd', id: ids[b] });
      expectStatus(taken.body, 409, 'AlreadyExists');
      const renamed = await post('restore-image', { pool: 'rbd', id: ids[b], name: `${b}-back` });
      expect(renamed.status).toBe(200);
      expect(renamed.body).toMatchObject({ name: `${b}-back`, id: ids[b] });
      expectStatus((await post('restore-image', { pool: 'rbd', id: 'abcdef0123' })).body, 404, 'NotFound');
      expectStatus((await post('restore-image', { pool: 'rbd', id: 'NOT-AN-ID' })).body, 400, 'BadRequest');

      // c is deferred to 2099: skipped unless expiredOnly=false.
      const purge = await post('purge-trash', { pool: 'rbd' });
      expect(purge.status).toBe(200);
      expect(purge.body.kind).toBe('TrashPurge');
      expect(purge.body.skipped).toEqual(expect.arrayContaining([{ id: ids[c], name: c, reason: expect.stringMatching(/^Deferred until 209[89]-/) }]));
      expect(trash('rbd').map((e) => e.id)).toContain(ids[c]);
      const forced = await post('purge-trash', { pool: 'rbd', expiredOnly: false });
      expect(forced.body.purged).toContain(ids[c]);
      expect(trash('rbd').map((e) => e.id)).not.toContain(ids[c]);
    } finally {
      cleanup(`rbd/${a}`, `rbd/${b}`, `rbd/${b}-back`);
    }
  });

  test('purge removes trashed images with snapshots, and skips one whose snapshot clones need', async () => {
    requireClients('mimic');
    const withSnaps = uniqueName('tps');
    const parent = uniqueName('tpp');
    const clone = uniqueName('tpc');
    rbd('create', '--size', '4M', `rbd/${withSnaps}`);
    rbd('snap', 'create', `rbd/${withSnaps}@one`);
    rbd('snap', 'create', `rbd/${withSnaps}@two`);
    rbd('snap', 'protect', `rbd/${withSnaps}@two`);
    rbd('create', '--size', '4M', `rbd/${parent}`);
    rbd('snap', 'create', `rbd/${parent}@gold`);
    rbd('clone', `rbd/${parent}@gold`, `rbd/${clone}`);
    rbd('trash', 'mv', `rbd/${withSnaps}`);
    rbd('trash', 'mv', `rbd/${parent}`);
    const ids = Object.fromEntries(trash('rbd').map((e) => [e.name, e.id]));
    try {
      const purge = await post('purge-trash', { pool: 'rbd' });
      expect(purge.status).toBe(200);
      expect(purge.body.purged).toContain(ids[withSnaps]);
      expect(purge.body.skipped).toEqual(expect.arrayContaining([{ id: ids[parent], name: parent, reason: expect.stringContaining('"gold" has clones') }]));
      const left = trash('rbd').map((e) => e.name);
      expect(left).toContain(parent);
      expect(left).not.toContain(withSnaps);
      expect(parentOf(`rbd/${clone}`)).toMatchObject({ image: parent, snapshot: 'gold' });
    } finally {
      cleanup(`rbd/${clone}`);
      try {
        rbd('trash', 'restore', ids[parent]!);
      } catch {
        // not in the trash: cleanup removes it where it is
      }
      cleanup(`rbd/${parent}`);
    }
  });

  test('unknown pool or namespace 404', async () => {
    expectStatus((await call(fn('list-trash', '?pool=nope-nope'))).body, 404, 'NotFound');
    expectStatus((await call(fn('list-trash', '?pool=rbd&namespace=nope-nope'))).body, 404, 'NotFound');
    expectStatus((await post('purge-trash', { pool: 'rbd', expiredOnly: 'sometimes' })).body, 400, 'BadRequest');
  });
});

describe('long operations, called asynchronously', () => {
  let debugGw: TestGateway;
  let hook: Receiver;
  beforeAll(async () => {
    debugGw = await startGateway({ LOG_LEVEL: 'debug' });
    hook = await startReceiver();
  });
  afterAll(async () => {
    await debugGw.close();
    await hook.close();
  });

  /** POST /async-function/<name> with a callback; resolves with the callback's request. */
  async function viaCallback(name: string, body: Record<string, unknown>) {
    const before = hook.received.length;
    const res = await call(`${debugGw.url}/async-function/${name}`, { body, headers: { 'X-Callback-Url': hook.url } });
    expect(res.status).toBe(202);
    const got = (await hook.waitFor(before + 1, 60_000)).find((r) => r.headers['x-call-id'] === res.headers.get('x-call-id'))!;
    return { status: Number(got.headers['x-function-status']), name: got.headers['x-function-name'], body: JSON.parse(got.body) };
  }

  test('flatten, rollback and purge answer at the X-Callback-Url, and librbd progress is logged at debug', async () => {
    requireClients('mimic');
    const base = imageWithData(uniqueName('abase'), '64M', 16);
    const clone = uniqueName('aclone');
    try {
      rbd('snap', 'create', `rbd/${base}@gold`);
      rbd('clone', `rbd/${base}@gold`, `rbd/${clone}`);
      const flat = await viaCallback('flatten-image', { pool: 'rbd', name: clone });
      expect(flat).toMatchObject({ status: 200, name: 'flatten-image', body: { kind: 'Image', name: clone, parent: null } });
      expect(parentOf(`rbd/${clone}`)).toBeUndefined();
      const progress = debugGw.logs.filter((l) => l.op === 'flatten' && l.target === `rbd/${clone}`);
      expect(progress.length).toBeGreaterThan(0);
      expect(progress.at(-1)).toMatchObject({ level: 20, done: expect.any(Number), total: expect.any(Number) });

      rbd('bench', '--io-type', 'write', '--io-size', '1M', '--io-total', '4M', '--io-pattern', 'rand', `rbd/${base}`);
      const rolled = await viaCallback('rollback-image', { pool: 'rbd', name: base, snapshot: 'gold' });
      expect(rolled).toMatchObject({ status: 200, body: { kind: 'Image', name: base } });
      expect(contentHash(`rbd/${base}`)).toBe(contentHash(`rbd/${base}@gold`));
      expect(debugGw.logs.some((l) => l.op === 'rollback')).toBe(true);

      rbd('rm', '--no-progress', `rbd/${clone}`);
      rbd('trash', 'mv', `rbd/${base}`);
      const id = trash('rbd').find((e) => e.name === base)!.id;
      const purged = await viaCallback('purge-trash', { pool: 'rbd' });
      expect(purged.status).toBe(200);
      expect(purged.body.purged).toContain(id);
      expect(trash('rbd').map((e) => e.id)).not.toContain(id);
    } finally {
      cleanup(`rbd/${clone}`, `rbd/${base}`);
    }
  });

  test('flatten as a CloudEvent: io.ceph.rbd.image.flatten in, io.ceph.rbd.image.flattened back', async () => {
    requireClients('mimic');
    const base = imageWithData(uniqueName('cebase'), '16M', 4);
    const clone = uniqueName('ceclone');
    try {
      rbd('snap', 'create', `rbd/${base}@gold`);
      rbd('clone', `rbd/${base}@gold`, `rbd/${clone}`);
      const res = await fetch(`${debugGw.url}/function/flatten-image`, {
        method: 'POST',
        headers: { 'ce-specversion': '1.0', 'ce-id': 'flatten-1', 'ce-source': '/tests', 'ce-type': 'io.ceph.rbd.image.flatten', 'content-type': 'application/json' },
        body: JSON.stringify({ pool: 'rbd', name: clone }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('ce-type')).toBe('io.ceph.rbd.image.flattened');
      expect(res.headers.get('ce-subject')).toBe(`rbd/${clone}`);
      expect(await res.json()).toMatchObject({ kind: 'Image', name: clone, parent: null });
      expect(parentOf(`rbd/${clone}`)).toBeUndefined();
    } finally {
      cleanup(`rbd/${clone}`, `rbd/${base}`);
    }
  });
});

describe('snapshots as CloudEvents', () => {
  test('io.ceph.rbd.snapshot.create in, io.ceph.rbd.snapshot.created back with the snapshot as subject; io.ceph.rbd.error for a missing image', async () => {
    const name = uniqueName('cesn');
    rbd('create', '--size', '1M', `rbd/${name}`);
    const send = (image: string, id: string) =>
      fetch(fn('create-snapshot'), {
        method: 'POST',
        headers: { 'ce-specversion': '1.0', 'ce-id': id, 'ce-source': '/tests', 'ce-type': 'io.ceph.rbd.snapshot.create', 'content-type': 'application/json' },
        body: JSON.stringify({ pool: 'rbd', image, snapshot: 'ev' }),
      });
    try {
      const res = await send(name, 'snap-1');
      expect(res.status).toBe(201);
      expect(res.headers.get('ce-type')).toBe('io.ceph.rbd.snapshot.created');
      expect(res.headers.get('ce-subject')).toBe(`rbd/${name}@ev`);
      expect(snaps(`rbd/${name}`).map((s) => s.name)).toEqual(['ev']);
      const missing = await send('nope-nope', 'snap-2');
      expect(missing.status).toBe(200);
      expect(missing.headers.get('ce-type')).toBe('io.ceph.rbd.error');
      expect(missing.headers.get('ce-subject')).toBe('rbd/nope-nope');
      expectStatus(await missing.json(), 404, 'NotFound');
    } finally {
      cleanup(`rbd/${name}`);
    }
  });
});

describe('namespaces', () => {
  test('every lifecycle function acts in the namespace it is given, and only there', async () => {
    const ns = uniqueName('lns');
    rbd('namespace', 'create', `rbd/${ns}`);
    const name = uniqueName('nsimg');
    rbd('create', '--size', '4M', `rbd/${ns}/${name}`);
    rbd('create', '--size', '4M', `rbd/${name}`); // the same name in the default namespace stays untouched
    const at = { pool: 'rbd', namespace: ns };
    try {
      expect((await post('get-image', { ...at, name })).body).toMatchObject({ namespace: ns, name, size: 4 * MiB });
      expect((await post('resize-image', { ...at, name, size: '8Mi' })).body.size).toBe(8 * MiB);
      expect((await post('create-snapshot', { ...at, image: name, snapshot: 's' })).body).toMatchObject({ namespace: ns, image: name, name: 's' });
      expect((await post('list-snapshots', { ...at, image: name })).body.items.map((s: { name: string }) => s.name)).toEqual(['s']);
      expect((await post('rollback-image', { ...at, name, snapshot: 's' })).status).toBe(200);
      expect((await post('delete-snapshot', { ...at, image: name, snapshot: 's' })).status).toBe(200);
      expect(rbdInfo(`rbd/${name}`).size).toBe(4 * MiB);
      expect(snaps(`rbd/${name}`)).toEqual([]);
      expect(snaps(`rbd/${ns}/${name}`)).toEqual([]);

      rbd('trash', 'mv', `rbd/${ns}/${name}`);
      const listed = (await post('list-trash', at)).body.items;
      expect(listed.map((e: { name: string }) => e.name)).toEqual([name]);
      expect((await post('restore-image', { ...at, id: listed[0].id })).body).toMatchObject({ namespace: ns, name });
      expect(imagesIn(`rbd/${ns}`)).toEqual([name]);
      rbd('trash', 'mv', `rbd/${ns}/${name}`);
      expect((await post('purge-trash', at)).body.purged).toEqual([listed[0].id]);
      expect(trash(`rbd/${ns}`)).toEqual([]);
      expect(imagesIn('rbd')).toContain(name);
      expectStatus((await post('list-snapshots', { pool: 'rbd', namespace: uniqueName('nons'), image: name })).body, 404, 'NotFound');
    } finally {
      cleanup(`rbd/${ns}/${name}`, `rbd/${name}`);
      rbd('namespace', 'remove', `rbd/${ns}`);
    }
  });
});

describe('trash entries librbd made itself', () => {
  test('an image under migration: restore 409 InUse, purge skips it, both with the reason', async () => {
    const source = uniqueName('msrc');
    const target = uniqueName('mdst');
    rbd('create', '--size', '4M', `rbd/${source}`);
    rbd('migration', 'prepare', `rbd/${source}`, `rbd/${target}`);
    try {
      const entry = trash('rbd').find((e) => e.name === source)!;
      expect(entry.source).toBe('MIGRATION');
      const listed = (await call(fn('list-trash', '?pool=rbd'))).body.items.find((e: { id: string }) => e.id === entry.id);
      expect(listed.source).toBe('migration');
      const restore = await post('restore-image', { pool: 'rbd', id: entry.id });
      expectStatus(restore.body, 409, 'InUse');
      expect(restore.body.message).toContain('migration');
      const purge = await post('purge-trash', { pool: 'rbd', expiredOnly: false });
      expect(purge.body.skipped).toEqual(expect.arrayContaining([{ id: entry.id, name: source, reason: expect.stringContaining('"migration"') }]));
      expect(trash('rbd').map((e) => e.id)).toContain(entry.id);
    } finally {
      rbd('migration', 'abort', '--no-progress', `rbd/${target}`);
      cleanup(`rbd/${source}`);
    }
  });
});
