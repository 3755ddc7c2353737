/**
 * Pool and image operations through the client, checked against the rbd and
 * ceph CLIs as oracles, including every error path the functions rely on.
 */
import type { CephClient, ImageDescription, ImageSpec } from '../../shared/ceph/client';
import type { NativeCluster } from '../../shared/ceph/native';
import { CephError } from '../../shared/errors';
import { ceph, connectSandbox, rbd, rbdInfo, startWatch, stopWatch, uniqueName } from '../helpers/ceph';

const GiB = 2 ** 30;
let client: CephClient;

beforeAll(async () => {
  client = await connectSandbox();
});
afterAll(() => client.close());

describe('listPools', () => {
  test('lists every pool with its id and application tags, as ceph does', async () => {
    const pools = await client.listPools();
    const oracle = JSON.parse(ceph('osd', 'pool', 'ls', 'detail', '--format', 'json')) as {
      pool_name: string;
      pool_id: number;
      application_metadata: Record<string, unknown>;
    }[];
    expect(pools).toEqual(
      oracle.map((p) => ({ name: p.pool_name, id: p.pool_id, applications: Object.keys(p.application_metadata) })),
    );
    expect(pools.find((p) => p.name === 'rbd')?.applications).toEqual(['rbd']);
  });

  test('sees a pool created by another client', async () => {
    const pool = uniqueName('pool');
    ceph('osd', 'pool', 'create', pool, '4');
    try {
      const names = (await client.listPools()).map((p) => p.name);
      expect(names).toContain(pool);
    } finally {
      ceph('osd', 'pool', 'rm', pool, pool, '--yes-i-really-really-mean-it');
    }
  });
});

describe('create, stat, list, remove', () => {
  test('a default image matches rbd info', async () => {
    const name = uniqueName('img');
    await client.createImage({ pool: 'rbd', name }, GiB);
    const info = rbdInfo(`rbd/${name}`);
    expect(info.size).toBe(GiB);
    expect(info.features).toEqual(['layering', 'exclusive-lock', 'object-map', 'fast-diff', 'deep-flatten']);

    const stat = await client.statImage({ pool: 'rbd', name });
    expect(stat).toMatchObject({
      pool: 'rbd',
      namespace: '',
      name,
      id: info.id,
      size: GiB,
      objectSize: 4 * 2 ** 20,
      order: 22,
      features: info.features,
      snapshotCount: 0,
      watchers: [],
      dataPoolId: null,
    });
    expect(Math.abs(stat.createdAt.getTime() - Date.now())).toBeLessThan(60_000);

    expect(await client.listImages('rbd')).toContainEqual({ name, id: info.id });
    await client.removeImage({ pool: 'rbd', name });
    expect(rbd('ls', 'rbd').split('\n')).not.toContain(name);
  });

  test('features, object size and striping reach librbd', async () => {
    const name = uniqueName('striped');
    await client.createImage({ pool: 'rbd', name }, 3 * GiB, {
      features: ['layering', 'striping'],
      objectSize: 2 ** 23,
      stripeUnit: 2 ** 16,
      stripeCount: 4,
    });
    const info = rbdInfo(`rbd/${name}`);
    expect(info).toMatchObject({ size: 3 * GiB, object_size: 2 ** 23, order: 23, stripe_unit: 2 ** 16, stripe_count: 4 });
    expect(info.features).toEqual(['layering', 'striping']);
    const stat = await client.statImage({ pool: 'rbd', name });
    expect(stat).toMatchObject({ stripeUnit: 2 ** 16, stripeCount: 4, features: ['layering', 'striping'] });
    await client.removeImage({ pool: 'rbd', name });
  });

  test('a separate data pool', async () => {
    const dataPool = uniqueName('data');
    ceph('osd', 'pool', 'create', dataPool, '4');
    rbd('pool', 'init', dataPool);
    const name = uniqueName('img');
    try {
      await client.createImage({ pool: 'rbd', name }, GiB, { dataPool });
      expect(rbdInfo(`rbd/${name}`).data_pool).toBe(dataPool);
      const stat = await client.statImage({ pool: 'rbd', name });
      const pools = await client.listPools();
      expect(stat.dataPoolId).toBe(pools.find((p) => p.name === dataPool)?.id);
      expect(stat.features).toContain('data-pool');
      await client.removeImage({ pool: 'rbd', name });
    } finally {
      ceph('osd', 'pool', 'rm', dataPool, dataPool, '--yes-i-really-really-mean-it');
    }
  });

  test('images in a namespace are separate from the default namespace', async () => {
    const ns = uniqueName('ns');
    rbd('namespace', 'create', `rbd/${ns}`);
    const name = uniqueName('img');
    await client.createImage({ pool: 'rbd', namespace: ns, name }, GiB);
    expect((await client.listImages('rbd', ns)).map((i) => i.name)).toEqual([name]);
    expect((await client.listImages('rbd')).map((i) => i.name)).not.toContain(name);
    expect(rbd('ls', `rbd/${ns}`).trim()).toBe(name);
    expect((await client.statImage({ pool: 'rbd', namespace: ns, name })).namespace).toBe(ns);
    await client.removeImage({ pool: 'rbd', namespace: ns, name });
    expect(await client.listImages('rbd', ns)).toEqual([]);
    rbd('namespace', 'remove', `rbd/${ns}`);
  });

  test('listing grows its buffer past the first guess', async () => {
    const ns = uniqueName('many');
    rbd('namespace', 'create', `rbd/${ns}`);
    const names = Array.from({ length: 300 }, (_, i) => `img-${String(i).padStart(3, '0')}`);
    await Promise.all(names.map((name) => client.createImage({ pool: 'rbd', namespace: ns, name }, 2 ** 20)));
    const listed = (await client.listImages('rbd', ns)).map((i) => i.name).sort();
    expect(listed).toEqual(names);
    expect(rbd('ls', `rbd/${ns}`).trim().split('\n').sort()).toEqual(names);
    // Pages, as JSON and as refs: sorted, cut after a name, the same ids.
    const refs = await client.listImagesPage('rbd', ns, { limit: 1000 });
    expect(refs).toEqual({ items: expect.any(Array), more: false, last: 'img-299' });
    expect(refs.items.map((i) => i.name)).toEqual(names);
    const json = await client.listImagesPage('rbd', ns, { after: 'img-099', limit: 100, json: true });
    expect(json.more).toBe(true);
    expect(json.last).toBe('img-199');
    expect(JSON.parse(json.items.toString('utf8'))).toEqual(refs.items.slice(100, 200).map((r) => ({ pool: 'rbd', namespace: ns, ...r })));
    expect(await client.listImagesPage('rbd', ns, { after: 'img-299', limit: 5, json: true })).toEqual({ items: Buffer.from('[]'), more: false, last: undefined });
    await expect(client.listImagesPage('rbd', ns, { limit: 0 })).rejects.toThrow(/limit/);
    await expect(client.listImagesPage('rbd', uniqueName('nons'), { limit: 5, json: true })).rejects.toMatchObject({ code: 'ENOENT' });
    await Promise.all(names.map((name) => client.removeImage({ pool: 'rbd', namespace: ns, name })));
    rbd('namespace', 'remove', `rbd/${ns}`);
  });

  test('trash move hides the image and keeps it in the trash', async () => {
    const name = uniqueName('trash');
    await client.createImage({ pool: 'rbd', name }, GiB);
    const { id } = await client.statImage({ pool: 'rbd', name });
    await client.trashImage({ pool: 'rbd', name }, 3600);
    expect((await client.listImages('rbd')).map((i) => i.name)).not.toContain(name);
    const trash = JSON.parse(rbd('trash', 'ls', '--format', 'json', 'rbd')) as { id: string; name: string }[];
    expect(trash).toContainEqual(expect.objectContaining({ id, name }));
    // The delay is enforced: a plain purge is refused until it passes.
    expect(() => rbd('trash', 'rm', `rbd/${id}`)).toThrow(/deferment time has not expired/);
    rbd('trash', 'rm', '--force', `rbd/${id}`);
  });
});

describe('createImageDescribed answers what rbd info and statImage show', () => {
  /** `rbd info --format json`, with the fields a description is checked against. */
  const info = (spec: string) =>
    JSON.parse(rbd('info', '--format', 'json', spec)) as ReturnType<typeof rbdInfo> & { create_timestamp: string };

  /**
   * The description must be what the cluster recorded: rbd info for id, size,
   * layout, features and the create time (rbd prints it to the second, in
   * local time like Date.parse), and statImage, which opens the image, for
   * every field to the millisecond.
   */
  async function expectTrue(spec: ImageSpec, described: ImageDescription) {
    const path = [spec.pool, spec.namespace, spec.name].filter(Boolean).join('/');
    const oracle = info(path);
    expect(described).toMatchObject({
      pool: spec.pool,
      namespace: spec.namespace ?? '',
      name: spec.name,
      id: oracle.id,
      size: oracle.size,
      objectSize: oracle.object_size,
      order: oracle.order,
      features: oracle.features,
      stripeUnit: oracle.stripe_unit ?? oracle.object_size,
      stripeCount: oracle.stripe_count ?? 1,
    });
    expect(Math.floor(described.createdAt.getTime() / 1000) * 1000).toBe(Date.parse(oracle.create_timestamp));
    const { snapshotCount, watchers, parent, dataPool, ...stat } = await client.statImage(spec);
    expect({ snapshotCount, watchers, parent }).toEqual({ snapshotCount: 0, watchers: [], parent: null });
    expect(dataPool).toBe(oracle.data_pool ?? null);
    expect(described).toEqual(stat);
  }

  test('default features and layout', async () => {
    const spec = { pool: 'rbd', name: uniqueName('d') };
    const described = await client.createImageDescribed(spec, GiB);
    expect(described.features).toEqual(['layering', 'exclusive-lock', 'object-map', 'fast-diff', 'deep-flatten']);
    expect(Math.abs(described.createdAt.getTime() - Date.now())).toBeLessThan(60_000);
    await expectTrue(spec, described);
    await client.removeImage(spec);
  });

  test('explicit features, object size, and striping (librbd adds the fast-diff and striping bits)', async () => {
    const plain = { pool: 'rbd', name: uniqueName('f') };
    const asked = await client.createImageDescribed(plain, 3 * GiB, { features: ['layering', 'exclusive-lock', 'object-map'], objectSize: 2 ** 16 });
    expect(asked).toMatchObject({ objectSize: 2 ** 16, order: 16, features: ['layering', 'exclusive-lock', 'object-map', 'fast-diff'] });
    await expectTrue(plain, asked);
    const striped = { pool: 'rbd', name: uniqueName('s') };
    const described = await client.createImageDescribed(striped, 3 * GiB, {
      features: ['layering', 'exclusive-lock', 'object-map', 'fast-diff'],
      objectSize: 2 ** 23,
      stripeUnit: 2 ** 16,
      stripeCount: 4,
    });
    expect(described).toMatchObject({
      objectSize: 2 ** 23,
      order: 23,
      stripeUnit: 2 ** 16,
      stripeCount: 4,
      features: ['layering', 'striping', 'exclusive-lock', 'object-map', 'fast-diff'],
    });
    await expectTrue(striped, described);
    for (const spec of [plain, striped]) await client.removeImage(spec);
  });

  test('a separate data pool (librbd adds the data-pool bit)', async () => {
    const dataPool = uniqueName('data');
    ceph('osd', 'pool', 'create', dataPool, '4');
    rbd('pool', 'init', dataPool);
    const spec = { pool: 'rbd', name: uniqueName('dp') };
    try {
      const described = await client.createImageDescribed(spec, GiB, { dataPool });
      expect(described.dataPoolId).toBe((await client.listPools()).find((p) => p.name === dataPool)?.id);
      expect(described.features).toContain('data-pool');
      expect(info(`rbd/${spec.name}`).data_pool).toBe(dataPool);
      await expectTrue(spec, described);
      await client.removeImage(spec);
    } finally {
      ceph('osd', 'pool', 'rm', dataPool, dataPool, '--yes-i-really-really-mean-it');
    }
  });

  test('in a namespace', async () => {
    const ns = uniqueName('ns');
    rbd('namespace', 'create', `rbd/${ns}`);
    const spec = { pool: 'rbd', namespace: ns, name: uniqueName('n') };
    await expectTrue(spec, await client.createImageDescribed(spec, GiB));
    await client.removeImage(spec);
    rbd('namespace', 'remove', `rbd/${ns}`);
  });

  test("the pool's own defaults (rbd config pool set), which the client's config does not show", async () => {
    const pool = uniqueName('cfg');
    ceph('osd', 'pool', 'create', pool, '4');
    rbd('pool', 'init', pool);
    try {
      rbd('config', 'pool', 'set', pool, 'rbd_default_features', 'layering,exclusive-lock');
      rbd('config', 'pool', 'set', pool, 'rbd_default_order', '23');
      const spec = { pool, name: uniqueName('o') };
      const described = await client.createImageDescribed(spec, GiB);
      expect(described).toMatchObject({ features: ['layering', 'exclusive-lock'], objectSize: 2 ** 23 });
      await expectTrue(spec, described);
      await client.removeImage(spec);
    } finally {
      ceph('osd', 'pool', 'rm', pool, pool, '--yes-i-really-really-mean-it');
    }
  });

  test('a taken name is EEXIST from rbd_create4, as with createImage', async () => {
    const spec = { pool: 'rbd', name: uniqueName('dup') };
    const first = await client.createImageDescribed(spec, GiB);
    await expect(client.createImageDescribed(spec, 2 * GiB)).rejects.toMatchObject({ code: 'EEXIST', op: 'rbd_create4', image: spec.name });
    expect(info(`rbd/${spec.name}`)).toMatchObject({ id: first.id, size: GiB });
    await client.removeImage(spec);
  });

  test('when the addon cannot read the image back, the answer comes from statImage', async () => {
    const other = await connectSandbox();
    try {
      // As the addon answers when the objects are not in the format it knows.
      const native = (other as unknown as { cluster: NativeCluster }).cluster;
      const create = native.createImage.bind(native);
      // The addon's methods are read-only on its prototype: shadow it on the instance.
      Object.defineProperty(native, 'createImage', { value: (...args: Parameters<typeof create>) => create(...args).then(() => null) });
      const spec = { pool: 'rbd', name: uniqueName('fb') };
      await expectTrue(spec, await other.createImageDescribed(spec, GiB));
      await client.removeImage(spec);
    } finally {
      await other.close();
    }
  });
});

describe('error paths', () => {
  const codeOf = (p: Promise<unknown>) =>
    p.then(
      () => 'resolved',
      (e: CephError) => e,
    );

  test('unknown pool is ENOENT, for every operation', async () => {
    const pool = uniqueName('nopool');
    const spec = { pool, name: 'x' };
    for (const call of [
      () => client.listImages(pool),
      () => client.createImage(spec, GiB),
      () => client.createImageDescribed(spec, GiB),
      () => client.statImage(spec),
      () => client.removeImage(spec),
      () => client.trashImage(spec),
    ]) {
      const err = await codeOf(call());
      expect(err).toMatchObject({ code: 'ENOENT', errno: -2, pool, op: 'rados_ioctx_create' });
      expect((err as CephError).message).toBe(`Pool "${pool}" does not exist.`);
    }
  });

  test('unknown namespace is ENOENT', async () => {
    const ns = uniqueName('nons');
    await expect(client.listImages('rbd', ns)).rejects.toMatchObject({ code: 'ENOENT', namespace: ns });
    await expect(client.createImage({ pool: 'rbd', namespace: ns, name: 'x' }, GiB)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(client.createImageDescribed({ pool: 'rbd', namespace: ns, name: 'x' }, GiB)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  test('unknown image is ENOENT with the operation and image', async () => {
    const name = uniqueName('ghost');
    await expect(client.statImage({ pool: 'rbd', name })).rejects.toMatchObject({
      code: 'ENOENT',
      op: 'rbd_open_read_only',
      pool: 'rbd',
      image: name,
    });
    await expect(client.removeImage({ pool: 'rbd', name })).rejects.toMatchObject({ code: 'ENOENT', op: 'rbd_remove' });
  });

  test('duplicate create is EEXIST and leaves the first image intact', async () => {
    const name = uniqueName('dup');
    await client.createImage({ pool: 'rbd', name }, GiB);
    const err = await codeOf(client.createImage({ pool: 'rbd', name }, 2 * GiB));
    expect(err).toMatchObject({ code: 'EEXIST', errno: -17, op: 'rbd_create4', pool: 'rbd', image: name });
    expect(rbdInfo(`rbd/${name}`).size).toBe(GiB);
    await client.removeImage({ pool: 'rbd', name });
  });

  test('remove while another client watches is EBUSY; stat shows the watcher', async () => {
    const name = uniqueName('watched');
    await client.createImage({ pool: 'rbd', name }, GiB);
    const watcher = await startWatch(`rbd/${name}`);
    try {
      const stat = await client.statImage({ pool: 'rbd', name });
      expect(stat.watchers).toHaveLength(1);
      expect(stat.watchers[0]!.address).toMatch(/127\.0\.0\.1:\d+/);
      expect(rbd('status', '--format', 'json', `rbd/${name}`)).toContain(stat.watchers[0]!.address);
      const err = await codeOf(client.removeImage({ pool: 'rbd', name }));
      expect(err).toMatchObject({ code: 'EBUSY', errno: -16, op: 'rbd_remove', image: name });
      expect(rbd('ls', 'rbd').split('\n')).toContain(name);
    } finally {
      await stopWatch(watcher);
    }
    await client.removeImage({ pool: 'rbd', name });
  });

  test('remove with a snapshot is ENOTEMPTY and changes nothing', async () => {
    const name = uniqueName('snapped');
    await client.createImage({ pool: 'rbd', name }, GiB);
    rbd('snap', 'create', `rbd/${name}@s1`);
    expect((await client.statImage({ pool: 'rbd', name })).snapshotCount).toBe(1);
    const err = await codeOf(client.removeImage({ pool: 'rbd', name }));
    expect(err).toMatchObject({ code: 'ENOTEMPTY', errno: -39, op: 'rbd_remove' });
    expect(rbd('snap', 'ls', `rbd/${name}`)).toContain('s1');
    rbd('snap', 'purge', `rbd/${name}`);
    await client.removeImage({ pool: 'rbd', name });
  });

  test('invalid input is refused before it reaches Ceph', async () => {
    const before = rbd('ls', 'rbd');
    for (const [spec, size] of [
      [{ pool: 'rbd', name: 'a/b' }, GiB],
      [{ pool: 'rbd', name: 'a@b' }, GiB],
      [{ pool: 'rbd', name: '' }, GiB],
      [{ pool: 'rbd', name: 'x'.repeat(251) }, GiB],
      [{ pool: 'rbd', name: 'tab\tname' }, GiB],
      [{ pool: 'rb d', name: 'ok' }, GiB],
      [{ pool: 'rbd', namespace: 'a/b', name: 'ok' }, GiB],
      [{ pool: 'rbd', name: 'ok' }, 0],
      [{ pool: 'rbd', name: 'ok' }, 1.5],
      [{ pool: 'rbd', name: 'ok' }, 2 ** 53],
      [{ pool: 'rbd', name: 'ok' }, '1G'],
    ] as const) {
      await expect(client.createImage(spec as never, size as never)).rejects.toMatchObject({ code: 'ERR_INVALID_PARAMETER' });
    }
    await expect(client.createImage({ pool: 'rbd', name: 'ok' }, GiB, { features: ['object-map'] })).rejects.toThrow(
      /object-map together with exclusive-lock/,
    );
    expect(rbd('ls', 'rbd')).toBe(before);
  });

  test('errors carry a stack that points at the caller', async () => {
    const err = await codeOf(client.statImage({ pool: 'rbd', name: uniqueName('ghost') }));
    expect((err as CephError).stack).toContain('images.test.ts');
    expect((err as CephError).stack?.split('\n')[0]).toContain('ENOENT');
  });
});

