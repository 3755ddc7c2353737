/**
 * Snapshots, clones, resize, usage and the trash through the client, checked
 * against the rbd and ceph CLIs as oracles, with every error path the
 * lifecycle functions rely on.
 */
import type { CephClient, ImageSpec } from '../../shared/ceph/client';
import { CephError } from '../../shared/errors';
import { ceph, connectSandbox, rbd, rbdContentHash, rbdInfo, rbdJson, rbdWrite, uniqueName } from '../helpers/ceph';

const MiB = 2 ** 20;
let client: CephClient;

beforeAll(async () => {
  client = await connectSandbox();
});
afterAll(() => client.close());

const path = (spec: ImageSpec) => [spec.pool, spec.namespace, spec.name].filter(Boolean).join('/');
const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: CephError) => e,
  );

/** A fresh image in the rbd pool; the caller removes it (purge removes snapshots first). */
async function newImage(size = 64 * MiB, features?: Parameters<CephClient['createImage']>[2]): Promise<ImageSpec> {
  const spec = { pool: 'rbd', name: uniqueName('lc') };
  await client.createImage(spec, size, features);
  return spec;
}

function purge(spec: ImageSpec): void {
  for (const snap of rbdJson<{ name: string; protected: string }[]>('snap', 'ls', path(spec))) {
    if (snap.protected === 'true') rbd('snap', 'unprotect', `${path(spec)}@${snap.name}`);
  }
  rbd('snap', 'purge', '--no-progress', path(spec));
  rbd('rm', '--no-progress', path(spec));
}

type SnapLs = { id: number; name: string; size: number; protected: 'true' | 'false'; timestamp: string; namespace?: { type: string } };

describe('snapshots', () => {
  test('create and list match rbd snap ls; a taken name is EEXIST', async () => {
    const spec = await newImage();
    await client.createSnapshot(spec, 's1');
    await client.resizeImage(spec, 128 * MiB);
    await client.createSnapshot(spec, 's2');
    const oracle = rbdJson<SnapLs[]>('snap', 'ls', path(spec));
    const snaps = await client.listSnapshots(spec);
    expect(snaps.map(({ createdAt: _createdAt, ...s }) => s)).toEqual(
      oracle.map((s) => ({ name: s.name, id: s.id, size: s.size, protected: s.protected === 'true', children: 0 })),
    );
    expect(snaps.map((s) => s.size)).toEqual([64 * MiB, 128 * MiB]);
    expect(snaps[0]!.id).toBeLessThan(snaps[1]!.id);
    for (const [i, s] of snaps.entries()) {
      expect(Math.floor(s.createdAt.getTime() / 1000) * 1000).toBe(Date.parse(oracle[i]!.timestamp));
    }
    expect((await client.statImage(spec)).snapshotCount).toBe(2);

    const err = await failure(client.createSnapshot(spec, 's1'));
    expect(err).toMatchObject({ code: 'EEXIST', op: 'rbd_snap_create2', image: spec.name, snapshot: 's1' });
    expect(err.message).toContain(`image "rbd/${spec.name}@s1"`);
    purge(spec);
  });

  test('only user snapshots are listed (not the trash namespace of a removed v2 parent snapshot)', async () => {
    const spec = await newImage();
    await client.createSnapshot(spec, 'keep');
    await client.createSnapshot(spec, 'gone');
    const child = { pool: 'rbd', name: uniqueName('c') };
    await client.cloneImage(spec, 'gone', child, { cloneFormat: 2 });
    await client.removeSnapshot(spec, 'gone');
    const all = rbdJson<SnapLs[]>('snap', 'ls', '--all', path(spec));
    expect(all.map((s) => s.namespace?.type).sort()).toEqual(['trash', 'user']);
    expect((await client.listSnapshots(spec)).map((s) => s.name)).toEqual(['keep']);
    await client.removeImage(child);
    purge(spec);
  });

  test('protect, unprotect and remove, with their errors', async () => {
    const spec = await newImage();
    await client.createSnapshot(spec, 's');
    await client.protectSnapshot(spec, 's');
    expect(rbdJson<SnapLs[]>('snap', 'ls', path(spec))[0]!.protected).toBe('true');
    expect((await client.listSnapshots(spec))[0]!.protected).toBe(true);
    // librbd's answers, passed through.
    await expect(client.protectSnapshot(spec, 's')).rejects.toMatchObject({ code: 'EBUSY', op: 'rbd_snap_protect', snapshot: 's' });
    await expect(client.removeSnapshot(spec, 's')).rejects.toMatchObject({ code: 'EBUSY', op: 'rbd_snap_remove2', snapshot: 's' });
    await client.unprotectSnapshot(spec, 's');
    expect((await client.listSnapshots(spec))[0]!.protected).toBe(false);
    await expect(client.unprotectSnapshot(spec, 's')).rejects.toMatchObject({ code: 'EINVAL', op: 'rbd_snap_unprotect' });
    await client.protectSnapshot(spec, 's');
    await client.removeSnapshot(spec, 's', { unprotect: true });
    expect(rbdJson<SnapLs[]>('snap', 'ls', path(spec))).toEqual([]);
    await client.removeImage(spec);
  });

  test('a missing snapshot is ENOENT naming it; a missing image names the image', async () => {
    const spec = await newImage();
    for (const [call, op] of [
      [() => client.removeSnapshot(spec, 'nope'), 'rbd_snap_remove2'],
      [() => client.protectSnapshot(spec, 'nope'), 'rbd_snap_protect'],
      [() => client.unprotectSnapshot(spec, 'nope'), 'rbd_snap_unprotect'],
      [() => client.listChildren(spec, 'nope'), 'rbd_snap_set'],
      [() => client.rollbackImage(spec, 'nope'), 'rbd_snap_exists'],
      [() => client.cloneImage(spec, 'nope', { pool: 'rbd', name: uniqueName('c') }), 'rbd_snap_set'],
    ] as const) {
      const err = await failure(call());
      expect(err).toMatchObject({ code: 'ENOENT', op, pool: 'rbd', image: spec.name, snapshot: 'nope' });
      expect(err.message).toBe(`Snapshot "rbd/${spec.name}@nope" does not exist.`);
    }
    const ghost = { pool: 'rbd', name: uniqueName('ghost') };
    for (const call of [
      () => client.createSnapshot(ghost, 's'),
      () => client.listSnapshots(ghost),
      () => client.removeSnapshot(ghost, 's'),
      () => client.listChildren(ghost, 's'),
      () => client.rollbackImage(ghost, 's'),
      () => client.cloneImage(ghost, 's', { pool: 'rbd', name: uniqueName('c') }),
      () => client.flattenImage(ghost),
      () => client.resizeImage(ghost, MiB),
      () => client.imageUsage(ghost),
    ]) {
      const err = await failure(call());
      expect(err).toMatchObject({ code: 'ENOENT', image: ghost.name });
      expect(err.op).toMatch(/^rbd_open/);
      expect(err.message).toBe(`Image "rbd/${ghost.name}" does not exist (or its pool or namespace does not).`);
    }
    await client.removeImage(spec);
  });

  test('rollback restores the content and reports progress on the main thread', async () => {
    const spec = await newImage(256 * MiB);
    rbdWrite(path(spec), '16M');
    await client.createSnapshot(spec, 'base');
    const atSnapshot = rbdContentHash(`${path(spec)}@base`);
    rbdWrite(path(spec), '64M', 'rand');
    expect(rbdContentHash(path(spec))).not.toBe(atSnapshot);
    const calls: [number, number][] = [];
    const rolled = await client.rollbackImage(spec, 'base', { onProgress: (done, total) => calls.push([done, total]) });
    expect(rolled).toEqual({ rolledBack: true, image: expect.objectContaining({ name: spec.name, size: 256 * MiB, watchers: [] }) });
    expect(rbdContentHash(path(spec))).toBe(atSnapshot);
    // Settled after the last report: at least the final one, with done = total.
    expect(calls.length).toBeGreaterThan(0);
    const [done, total] = calls[calls.length - 1]!;
    expect(total).toBeGreaterThan(0);
    expect(done).toBe(total);
    // Throttled: never more than one report per 1% step.
    expect(calls.length).toBeLessThanOrEqual(101);
    // Without a callback it works too.
    await client.rollbackImage(spec, 'base');
    purge(spec);
  });
});

describe('clones and the clone format', () => {
  let original: string;
  beforeAll(() => {
    original = (JSON.parse(ceph('osd', 'dump', '--format', 'json')) as { require_min_compat_client: string }).require_min_compat_client;
  });
  afterAll(() => {
    ceph('osd', 'set-require-min-compat-client', original, '--yes-i-really-mean-it');
  });

  test('luminous: auto picks v1, which needs a protected snapshot', async () => {
    ceph('osd', 'set-require-min-compat-client', 'luminous', '--yes-i-really-mean-it');
    const fresh = await connectSandbox();
    try {
      expect(await fresh.requiredMinCompatClient()).toBe(12);
      const parent = await newImage();
      rbdWrite(path(parent), '16M');
      await fresh.createSnapshot(parent, 's');
      const child = { pool: 'rbd', name: uniqueName('c') };
      const err = await failure(fresh.cloneImage(parent, 's', child));
      expect(err).toMatchObject({ code: 'EINVAL', op: 'rbd_clone3', image: parent.name, snapshot: 's' });
      await fresh.protectSnapshot(parent, 's');
      await fresh.cloneImage(parent, 's', child, { features: ['layering'] });
      const info = rbdJson<{ features: string[]; op_features: string[]; parent: { image: string; snapshot: string } }>('info', path(child));
      expect(info.features).toEqual(['layering']);
      expect(info.op_features).not.toContain('clone-child'); // v1
      expect(info.parent).toMatchObject({ image: parent.name, snapshot: 's' });
      // v1 children keep their snapshot from being unprotected.
      await expect(fresh.unprotectSnapshot(parent, 's')).rejects.toMatchObject({ code: 'EBUSY', op: 'rbd_snap_unprotect' });
      expect((await fresh.statImage(child)).parent).toEqual({ pool: 'rbd', namespace: '', image: parent.name, snapshot: 's' });
      await fresh.removeImage(child);
      purge(parent);
    } finally {
      await fresh.close();
    }
  });

  test('mimic: auto picks v2, which clones an unprotected snapshot', async () => {
    ceph('osd', 'set-require-min-compat-client', 'mimic');
    // A new connection has the new osdmap; the format is read from it.
    const fresh = await connectSandbox();
    try {
      expect(await fresh.requiredMinCompatClient()).toBe(13);
      const parent = await newImage();
      await fresh.createSnapshot(parent, 's');
      const child = { pool: 'rbd', name: uniqueName('c') };
      await fresh.cloneImage(parent, 's', child);
      expect(rbdJson<{ op_features: string[] }>('info', path(child)).op_features).toContain('clone-child');
      await fresh.removeImage(child);
      purge(parent);
    } finally {
      await fresh.close();
    }
  });

  test('children across a namespace, the snapshot child count, flatten with progress', async () => {
    const ns = uniqueName('ns');
    rbd('namespace', 'create', `rbd/${ns}`);
    const parent = await newImage(256 * MiB);
    rbdWrite(path(parent), '32M');
    await client.createSnapshot(parent, 's');
    await client.protectSnapshot(parent, 's');
    const a = { pool: 'rbd', name: uniqueName('a') };
    const b = { pool: 'rbd', namespace: ns, name: uniqueName('b') };
    await client.cloneImage(parent, 's', a, { cloneFormat: 1 });
    await client.cloneImage(parent, 's', b, { cloneFormat: 2 });
    const oracle = rbdJson<{ pool: string; pool_namespace: string; image: string }[]>('children', `${path(parent)}@s`);
    const children = await client.listChildren(parent, 's');
    expect(children.map((c) => ({ pool: c.pool, pool_namespace: c.namespace, image: c.name })).sort((x, y) => x.image.localeCompare(y.image))).toEqual(
      oracle.sort((x, y) => x.image.localeCompare(y.image)),
    );
    expect(children.find((c) => c.name === b.name)).toEqual({ pool: 'rbd', namespace: ns, name: b.name, id: rbdInfo(path(b)).id, trash: false });
    expect((await client.listSnapshots(parent))[0]!.children).toBe(2);
    // A trashed clone still counts, marked as such.
    await client.trashImage(a);
    expect((await client.listChildren(parent, 's')).find((c) => c.name === a.name)?.trash).toBe(true);
    expect((await client.listSnapshots(parent))[0]!.children).toBe(2);
    const { id: aId } = (await client.listTrash('rbd')).find((e) => e.name === a.name)!;
    await client.removeTrash('rbd', '', aId);

    const parentHash = rbdContentHash(`${path(parent)}@s`);
    const calls: [number, number][] = [];
    await client.flattenImage(b, { onProgress: (done, total) => calls.push([done, total]) });
    expect(calls.length).toBeGreaterThan(0);
    expect(calls[calls.length - 1]![0]).toBe(calls[calls.length - 1]![1]);
    expect((await client.statImage(b)).parent).toBeNull();
    expect(rbdContentHash(path(b))).toBe(parentHash);
    expect(await client.listChildren(parent, 's')).toEqual([]);
    // No parent: librbd's EINVAL, passed through.
    await expect(client.flattenImage(b)).rejects.toMatchObject({ code: 'EINVAL', op: 'rbd_flatten_with_progress' });

    await client.removeImage(b);
    rbd('namespace', 'remove', `rbd/${ns}`);
    await client.removeSnapshot(parent, 's', { unprotect: true });
    await client.removeImage(parent);
  });

  test('clone errors: child name taken, child namespace missing, invalid input', async () => {
    const parent = await newImage();
    await client.createSnapshot(parent, 's');
    const taken = await newImage();
    const err = await failure(client.cloneImage(parent, 's', taken, { cloneFormat: 2 }));
    expect(err).toMatchObject({ code: 'EEXIST', op: 'rbd_clone3', pool: 'rbd', image: taken.name });
    expect(err.snapshot).toBeUndefined();
    const ns = uniqueName('nons');
    const missing = await failure(client.cloneImage(parent, 's', { pool: 'rbd', namespace: ns, name: 'c' }, { cloneFormat: 2 }));
    expect(missing).toMatchObject({ code: 'ENOENT', op: 'rbd_clone3', namespace: ns, image: 'c' });
    const pool = uniqueName('nopool');
    await expect(client.cloneImage(parent, 's', { pool, name: 'c' })).rejects.toMatchObject({ code: 'ENOENT', op: 'rados_ioctx_create', pool });
    for (const call of [
      () => client.cloneImage(parent, 'a@b', { pool: 'rbd', name: 'c' }),
      () => client.cloneImage(parent, 's', { pool: 'rbd', name: 'c/d' }),
      () => client.cloneImage(parent, 's', { pool: 'rbd', name: 'c' }, { cloneFormat: 3 as never }),
      () => client.cloneImage(parent, 's', { pool: 'rbd', name: 'c' }, { features: ['nope' as never] }),
      () => client.createSnapshot(parent, ''),
      () => client.removeSnapshot(parent, 's', { unprotect: 'yes' as never }),
      () => client.rollbackImage(parent, 's', { onProgress: 1 as never }),
    ]) {
      await expect(call()).rejects.toMatchObject({ code: 'ERR_INVALID_PARAMETER' });
    }
    await client.removeImage(taken);
    purge(parent);
  });
});

describe('resize and usage', () => {
  test('resize grows; shrinking needs allowShrink', async () => {
    const spec = await newImage();
    await client.resizeImage(spec, 256 * MiB);
    expect(rbdInfo(path(spec)).size).toBe(256 * MiB);
    await expect(client.resizeImage(spec, 32 * MiB)).rejects.toMatchObject({ code: 'EINVAL', op: 'rbd_resize2' });
    expect(rbdInfo(path(spec)).size).toBe(256 * MiB);
    await client.resizeImage(spec, 32 * MiB, { allowShrink: true });
    expect(rbdInfo(path(spec)).size).toBe(32 * MiB);
    await client.removeImage(spec);
  });

  /** rbd du's total for a namespace holding only the image. */
  const du = (spec: ImageSpec) =>
    rbdJson<{ total_used_size: number }>('du', '--pool', spec.pool, '--namespace', spec.namespace!).total_used_size;

  test.each([
    ['with fast-diff', undefined],
    ['without fast-diff', { features: ['layering', 'exclusive-lock'] as const }],
  ])('equals rbd du, with and without snapshots (%s)', async (_label, options) => {
    const ns = uniqueName('du');
    rbd('namespace', 'create', `rbd/${ns}`);
    const spec = { pool: 'rbd', namespace: ns, name: uniqueName('u') };
    await client.createImage(spec, 256 * MiB, options && { features: [...options.features] });
    expect(await client.imageUsage(spec)).toBe(0);
    rbdWrite(path(spec), '16M');
    expect(await client.imageUsage(spec)).toBe(du(spec));
    expect(du(spec)).toBe(16 * MiB);
    await client.createSnapshot(spec, 's1');
    rbdWrite(path(spec), '8M', 'rand');
    // A partial object: rbd du counts whole objects.
    rbd('bench', '--io-type', 'write', '--io-size', '4K', '--io-total', '4K', path(spec));
    await client.createSnapshot(spec, 's2');
    rbdWrite(path(spec), '32M');
    const used = await client.imageUsage(spec);
    expect(used).toBe(du(spec));
    expect(used).toBeGreaterThan(32 * MiB);
    purge(spec);
    rbd('namespace', 'remove', `rbd/${ns}`);
  });

  test('stat names the separate data pool', async () => {
    const dataPool = uniqueName('data');
    ceph('osd', 'pool', 'create', dataPool, '4');
    rbd('pool', 'init', dataPool);
    try {
      const spec = await newImage(64 * MiB, { dataPool });
      expect(await client.statImage(spec)).toMatchObject({ dataPool, parent: null });
      await client.removeImage(spec);
      const plain = await newImage();
      expect((await client.statImage(plain)).dataPool).toBeNull();
      await client.removeImage(plain);
    } finally {
      ceph('osd', 'pool', 'rm', dataPool, dataPool, '--yes-i-really-really-mean-it');
    }
  });
});

type TrashLs = { id: string; name: string; source: string; deleted_at: string; status: string };

describe('trash', () => {
  test('list matches rbd trash ls --long; a deferred image needs force', async () => {
    const ns = uniqueName('tr');
    rbd('namespace', 'create', `rbd/${ns}`);
    const spec = { pool: 'rbd', namespace: ns, name: uniqueName('t') };
    await client.createImage(spec, 64 * MiB);
    const { id } = await client.statImage(spec);
    await client.trashImage(spec, 3600);
    const [oracle] = rbdJson<TrashLs[]>('trash', 'ls', '--long', `rbd/${ns}`);
    const entries = await client.listTrash('rbd', ns);
    expect(entries).toHaveLength(1);
    const entry = entries[0]!;
    expect(entry).toMatchObject({ id, name: spec.name, source: 'user' });
    expect(oracle).toMatchObject({ id, name: spec.name, source: 'USER' });
    expect(entry.deletedAt.getTime()).toBe(Date.parse(oracle!.deleted_at));
    expect(entry.deferredUntil.getTime()).toBe(Date.parse(oracle!.status.replace('protected until ', '')));
    expect(entry.deferredUntil.getTime() - entry.deletedAt.getTime()).toBe(3600_000);

    const err = await failure(client.removeTrash('rbd', ns, id));
    expect(err).toMatchObject({ code: 'EPERM', op: 'rbd_trash_remove_with_progress', image: spec.name });
    expect(err.message).toMatch(/stays in the trash until .*force/);
    // With purgeSnapshots too it refuses before touching anything.
    await expect(client.removeTrash('rbd', ns, id, { purgeSnapshots: true })).rejects.toMatchObject({ code: 'EPERM' });
    expect(rbdJson<TrashLs[]>('trash', 'ls', `rbd/${ns}`)).toHaveLength(1);
    const calls: number[] = [];
    await client.removeTrash('rbd', ns, id, { force: true, onProgress: (done) => calls.push(done) });
    expect(rbdJson<TrashLs[]>('trash', 'ls', `rbd/${ns}`)).toEqual([]);
    expect(await client.listTrash('rbd', ns)).toEqual([]);
    rbd('namespace', 'remove', `rbd/${ns}`);
  });

  test('restore under the original name and under a new one; its errors', async () => {
    const spec = await newImage();
    const { id } = await client.statImage(spec);
    await client.trashImage(spec);
    expect(await client.restoreTrash('rbd', undefined, id)).toEqual({ restored: true, image: expect.objectContaining({ pool: 'rbd', name: spec.name, id }) });
    expect(rbdInfo(path(spec)).id).toBe(id);

    await client.trashImage(spec);
    const squatter = await newImage();
    await client.createImage({ pool: 'rbd', name: spec.name }, MiB);
    const taken = await failure(client.restoreTrash('rbd', '', id));
    expect(taken).toMatchObject({ code: 'EEXIST', op: 'rbd_trash_restore', image: spec.name });
    const renamed = uniqueName('renamed');
    const restored = await client.restoreTrash('rbd', '', id, renamed);
    expect(restored).toEqual({ restored: true, image: expect.objectContaining({ name: renamed, id, size: rbdInfo(`rbd/${renamed}`).size }) });
    expect(rbdInfo(`rbd/${renamed}`).id).toBe(id);

    const unknown = await failure(client.restoreTrash('rbd', '', 'deadbeef'));
    expect(unknown).toMatchObject({ code: 'ENOENT', op: 'rbd_trash_get' });
    expect(unknown.message).toBe('No image with id "deadbeef" is in the trash of "rbd".');
    await expect(client.removeTrash('rbd', '', 'deadbeef')).rejects.toMatchObject({ code: 'ENOENT', op: 'rbd_trash_get' });
    await expect(client.removeTrash('rbd', '', 'deadbeef', { force: true })).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(client.removeTrash('rbd', '', 'deadbeef', { force: true, purgeSnapshots: true })).rejects.toMatchObject({ code: 'ENOENT' });
    for (const bad of ['', 'XYZ', 'a'.repeat(65), 'ab/cd']) {
      await expect(client.restoreTrash('rbd', '', bad)).rejects.toMatchObject({ code: 'ERR_INVALID_PARAMETER' });
      await expect(client.removeTrash('rbd', '', bad)).rejects.toMatchObject({ code: 'ERR_INVALID_PARAMETER' });
    }
    await expect(client.restoreTrash('rbd', '', id, 'a@b')).rejects.toMatchObject({ code: 'ERR_INVALID_PARAMETER' });
    await expect(client.listTrash('rbd', uniqueName('nons'))).rejects.toMatchObject({ code: 'ENOENT', op: 'rbd_namespace_exists' });
    await expect(client.listTrash(uniqueName('nopool'))).rejects.toMatchObject({ code: 'ENOENT', op: 'rados_ioctx_create' });
    for (const s of [{ pool: 'rbd', name: spec.name }, { pool: 'rbd', name: renamed }, squatter]) await client.removeImage(s);
  });

  test('purging snapshots: ECHILD while one has a clone, then removes them all', async () => {
    const spec = await newImage();
    rbdWrite(path(spec), '8M');
    await client.createSnapshot(spec, 'plain');
    await client.createSnapshot(spec, 'guarded');
    await client.protectSnapshot(spec, 'guarded');
    await client.createSnapshot(spec, 'parent');
    await client.protectSnapshot(spec, 'parent');
    const child = { pool: 'rbd', name: uniqueName('c') };
    await client.cloneImage(spec, 'parent', child, { cloneFormat: 2 });
    const { id } = await client.statImage(spec);
    await client.trashImage(spec);
    // A trashed child counts too.
    await client.trashImage(child);

    const err = await failure(client.removeTrash('rbd', '', id, { purgeSnapshots: true }));
    expect(err).toMatchObject({ code: 'ECHILD', op: 'rbd_list_children3', snapshot: 'parent', image: spec.name });
    expect(err.message).toContain(`@parent" has clones`);
    // Nothing was removed.
    expect(rbdJson<SnapLs[]>('snap', 'ls', '--image-id', id, '--pool', 'rbd').map((s) => s.name)).toEqual(['plain', 'guarded', 'parent']);
    // Without the purge, librbd refuses an image with snapshots itself.
    await expect(client.removeTrash('rbd', '', id)).rejects.toMatchObject({ code: 'ENOTEMPTY', op: 'rbd_trash_remove_with_progress' });

    const childId = (await client.listTrash('rbd')).find((e) => e.name === child.name)!.id;
    await client.removeTrash('rbd', '', childId);
    await client.removeTrash('rbd', '', id, { purgeSnapshots: true });
    expect(rbdJson<TrashLs[]>('trash', 'ls', 'rbd').map((e) => e.id)).not.toContain(id);
  });
});
