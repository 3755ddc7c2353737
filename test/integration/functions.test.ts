/**
 * The HTTP contract of the four functions through the local gateway, against
 * the real sandbox cluster, with the rbd CLI as the oracle for what exists.
 */
import { execSync } from 'node:child_process';
import { ceph, rbd, rbdInfo, startWatch, stopWatch, uniqueName } from '../helpers/ceph';
import { call, expectStatus, startGateway, type TestGateway } from '../helpers/gateway';

const GiB = 2 ** 30;
let gw: TestGateway;
const fn = (name: string, query = '') => `${gw.url}/function/${name}${query}`;
const images = (spec: string) => rbd('ls', spec).split('\n').filter(Boolean);

beforeAll(async () => {
  gw = await startGateway();
});
afterAll(() => gw.close());


describe('list-pools', () => {
  test('lists rbd pools, or every pool with all=true, by GET and by POST', async () => {
    const plain = uniqueName('plain');
    ceph('osd', 'pool', 'create', plain, '4');
    try {
      const res = await call(fn('list-pools'));
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(res.body).toEqual({ kind: 'PoolList', apiVersion: 'v1', items: [{ name: 'rbd', id: expect.any(Number), applications: ['rbd'] }] });
      const all = await call(fn('list-pools', '?all=true'));
      expect(all.body.items.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['rbd', plain]));
      const posted = await call(fn('list-pools'), { body: { all: true } });
      expect(posted.body).toEqual(all.body);
      expectStatus((await call(fn('list-pools', '?all=maybe'))).body, 400, 'BadRequest');
    } finally {
      ceph('osd', 'pool', 'rm', plain, plain, '--yes-i-really-really-mean-it');
    }
  });
});

describe('create-image', () => {
  test('creates what rbd info shows, from a quantity size', async () => {
    const name = uniqueName('c');
    const res = await call(fn('create-image'), { body: { pool: 'rbd', name, size: '1.5Gi', features: ['layering', 'exclusive-lock'] } });
    expect(res.status).toBe(201);
    const info = rbdInfo(`rbd/${name}`);
    expect(res.body).toEqual({
      kind: 'Image',
      apiVersion: 'v1',
      pool: 'rbd',
      namespace: '',
      name,
      id: info.id,
      size: 1.5 * GiB,
      objectSize: 4 * 2 ** 20,
      features: ['layering', 'exclusive-lock'],
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(info).toMatchObject({ size: 1.5 * GiB, features: ['layering', 'exclusive-lock'] });
    rbd('rm', `rbd/${name}`);
  });

  test('the 201 answer is what rbd info shows and what a repeat (a stat) answers, for every layout', async () => {
    const ns = uniqueName('cns');
    rbd('namespace', 'create', `rbd/${ns}`);
    const cases = [
      { pool: 'rbd', name: uniqueName('cd'), size: '1Gi' },
      { pool: 'rbd', name: uniqueName('cf'), size: '1Gi', features: 'layering,exclusive-lock', objectSize: '64Ki' },
      { pool: 'rbd', name: uniqueName('cs'), size: '3Gi', features: ['layering'], objectSize: '8Mi', stripeUnit: '64Ki', stripeCount: 4 },
      { pool: 'rbd', namespace: ns, name: uniqueName('cn'), size: '1Mi' },
    ];
    for (const body of cases) {
      const created = await call(fn('create-image'), { body });
      expect(created.status).toBe(201);
      const path = [body.pool, body.namespace, body.name].filter(Boolean).join('/');
      const info = JSON.parse(rbd('info', '--format', 'json', path)) as ReturnType<typeof rbdInfo> & { create_timestamp: string };
      expect(created.body).toEqual({
        kind: 'Image',
        apiVersion: 'v1',
        pool: 'rbd',
        namespace: body.namespace ?? '',
        name: body.name,
        id: info.id,
        size: info.size,
        objectSize: info.object_size,
        features: info.features,
        createdAt: expect.any(String),
      });
      // rbd prints the create time to the second, in local time as Date.parse reads it.
      expect(Math.floor(Date.parse(created.body.createdAt) / 1000) * 1000).toBe(Date.parse(info.create_timestamp));
      // The repeat is answered from a stat (an open): the same image, to the millisecond.
      const again = await call(fn('create-image'), { body });
      expect(again.status).toBe(200);
      expect(again.body).toEqual(created.body);
      rbd('rm', '--no-progress', path);
    }
    rbd('namespace', 'remove', `rbd/${ns}`);
  });

  test('is idempotent: same spec → 200 with the image, another spec → 409', async () => {
    const name = uniqueName('idem');
    const first = await call(fn('create-image'), { body: { pool: 'rbd', name, size: GiB } });
    expect(first.status).toBe(201);
    const again = await call(fn('create-image'), { body: { pool: 'rbd', name, size: '1Gi' } });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);

    const bigger = await call(fn('create-image'), { body: { pool: 'rbd', name, size: 2 * GiB } });
    expect(bigger.status).toBe(409);
    expectStatus(bigger.body, 409, 'AlreadyExists');
    expect(bigger.body.details).toMatchObject({ existingSize: GiB, requestedSize: 2 * GiB });
    const otherFeatures = await call(fn('create-image'), { body: { pool: 'rbd', name, size: GiB, features: ['layering'] } });
    expect(otherFeatures.status).toBe(409);
    expect(rbdInfo(`rbd/${name}`).size).toBe(GiB);
    rbd('rm', `rbd/${name}`);
  });

  test('a repeat asking for object-map alone is the same spec (librbd adds fast-diff)', async () => {
    const name = uniqueName('omap');
    const body = { pool: 'rbd', name, size: GiB, features: ['layering', 'exclusive-lock', 'object-map'] };
    const first = await call(fn('create-image'), { body });
    expect(first.status).toBe(201);
    expect(first.body.features).toContain('fast-diff');
    const again = await call(fn('create-image'), { body });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    rbd('rm', `rbd/${name}`);
  });

  test('20 concurrent identical creates make exactly one image', async () => {
    const name = uniqueName('race');
    const answers = await Promise.all(Array.from({ length: 20 }, () => call(fn('create-image'), { body: { pool: 'rbd', name, size: '1Gi' } })));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(19);
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect(images('rbd').filter((n) => n === name)).toHaveLength(1);
    rbd('rm', `rbd/${name}`);
  });

  test('bad input is a 400 that names the parameter, and creates nothing', async () => {
    const before = images('rbd');
    for (const [body, parameter] of [
      [{ pool: 'rbd', size: GiB }, 'name'],
      [{ pool: 'rbd', name: 'a/b', size: GiB }, 'name'],
      [{ name: 'x', size: GiB }, 'pool'],
      [{ pool: 'rbd', name: 'x' }, 'size'],
      [{ pool: 'rbd', name: 'x', size: 0 }, 'size'],
      [{ pool: 'rbd', name: 'x', size: '1.1' }, 'size'],
      [{ pool: 'rbd', name: 'x', size: '10Qi' }, 'size'],
      [{ pool: 'rbd', name: 'x', size: '65Ti' }, 'size'],
      [{ pool: 'rbd', name: 'x', size: GiB, features: ['warp-drive'] }, 'options.features'],
      [{ pool: 'rbd', name: 'x', size: GiB, objectSize: 3000 }, 'options.objectSize'],
    ] as const) {
      const res = await call(fn('create-image'), { body });
      expect(res.status).toBe(400);
      expectStatus(res.body, 400, 'BadRequest');
      expect(res.body.message).toContain(`for ${parameter}`);
    }
    expect(images('rbd')).toEqual(before);
  });

  test('unknown pool is 404', async () => {
    const res = await call(fn('create-image'), { body: { pool: uniqueName('nopool'), name: 'x', size: GiB } });
    expectStatus(res.body, 404, 'NotFound');
  });
});

describe('list-images', () => {
  const ns = uniqueName('page');
  const names = Array.from({ length: 25 }, (_, i) => `img-${String(i).padStart(2, '0')}`);

  beforeAll(async () => {
    rbd('namespace', 'create', `rbd/${ns}`);
    // Created out of order: the listing must sort.
    for (const name of [...names].reverse()) rbd('create', '--size', '1M', `rbd/${ns}/${name}`);
  });
  afterAll(() => {
    for (const name of names) rbd('rm', `rbd/${ns}/${name}`);
    rbd('namespace', 'remove', `rbd/${ns}`);
  });

  test('pages join up to the full sorted list', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const res = await call(fn('list-images', `?pool=rbd&namespace=${ns}&limit=10${token ? `&continue=${token}` : ''}`));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ kind: 'ImageList', apiVersion: 'v1' });
      for (const item of res.body.items) expect(item).toEqual({ pool: 'rbd', namespace: ns, name: expect.any(String), id: expect.any(String) });
      seen.push(...res.body.items.map((i: { name: string }) => i.name));
      token = res.body.metadata.continue;
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(seen).toEqual(names);
    expect(images(`rbd/${ns}`).sort()).toEqual(names);
  });

  test('POST with a body works the same as GET with a query', async () => {
    const get = await call(fn('list-images', `?pool=rbd&namespace=${ns}&limit=5`));
    const post = await call(fn('list-images'), { body: { pool: 'rbd', namespace: ns, limit: 5 } });
    expect(post.body).toEqual(get.body);
  });

  test('detail=true adds size, layout, features, time, snapshots and watchers', async () => {
    rbd('snap', 'create', `rbd/${ns}/img-00@s1`);
    try {
      const res = await call(fn('list-images', `?pool=rbd&namespace=${ns}&detail=true&limit=2`));
      expect(res.body.items).toEqual([
        {
          pool: 'rbd',
          namespace: ns,
          name: 'img-00',
          id: expect.any(String),
          size: 2 ** 20,
          objectSize: 4 * 2 ** 20,
          features: expect.arrayContaining(['layering']),
          createdAt: expect.any(String),
          snapshots: 1,
          watchers: [],
        },
        expect.objectContaining({ name: 'img-01', snapshots: 0 }),
      ]);
      expect(res.body.metadata.continue).toEqual(expect.any(String));
    } finally {
      rbd('snap', 'purge', `rbd/${ns}/img-00`);
    }
  });

  test('names that JSON must escape, and bytes that are not UTF-8, come out as JSON.stringify writes them, in byte order', async () => {
    const odd = uniqueName('odd');
    rbd('namespace', 'create', `rbd/${odd}`);
    // As raw bytes: one name has an invalid UTF-8 sequence, which V8 (and so the old JS path) reads as U+FFFD.
    const raw = [
      Buffer.from('q"uote'),
      Buffer.from('back\\slash'),
      Buffer.from('tab\tand\u0001ctl'),
      Buffer.from('ünïcödé'),
      Buffer.from('\u{1F600}emoji'),
      Buffer.from('\uFFFDreplacement'),
      Buffer.concat([Buffer.from('bad'), Buffer.from([0xe2, 0x82]), Buffer.from('cut'), Buffer.from([0xff])]),
    ];
    const shell = (name: Buffer) => `$'${[...name].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('')}'`;
    try {
      for (const name of raw) execSync(`rbd -c "$CEPH_CONF" create --size 1M rbd/${odd}/${shell(name)}`, { shell: '/bin/bash', stdio: 'ignore' });
      const sorted = [...raw].sort(Buffer.compare).map((b) => b.toString('utf8'));
      expect(sorted).toContain('bad\uFFFDcut\uFFFD');
      const res = await call(fn('list-images', `?pool=rbd&namespace=${odd}`));
      expect(res.status).toBe(200);
      expect(res.body.items.map((i: { name: string }) => i.name)).toEqual(sorted);
      // Paging from an escaped name picks up after it.
      const first = await call(fn('list-images', `?pool=rbd&namespace=${odd}&limit=2`));
      const rest = await call(fn('list-images', `?pool=rbd&namespace=${odd}&limit=10&continue=${first.body.metadata.continue}`));
      expect([...first.body.items, ...rest.body.items].map((i: { name: string }) => i.name)).toEqual(sorted);
    } finally {
      for (const name of raw) execSync(`rbd -c "$CEPH_CONF" rm --no-progress rbd/${odd}/${shell(name)}`, { shell: '/bin/bash', stdio: 'ignore' });
      rbd('namespace', 'remove', `rbd/${odd}`);
    }
  });

  test('limits, tokens and unknown pools and namespaces', async () => {
    for (const query of ['', '?pool=rbd&limit=0', '?pool=rbd&limit=10001', '?pool=rbd&detail=true&limit=1001', '?pool=rbd&continue=%%%', '?pool=rbd&limit=ten']) {
      expectStatus((await call(fn('list-images', query))).body, 400, 'BadRequest');
    }
    const page = await call(fn('list-images', `?pool=rbd&namespace=${ns}&limit=1`));
    const foreign = await call(fn('list-images', `?pool=rbd&limit=1&continue=${page.body.metadata.continue}`));
    expectStatus(foreign.body, 400, 'BadRequest');
    expect((await call(fn('list-images', '?pool=rbd&limit=10000'))).status).toBe(200);
    expectStatus((await call(fn('list-images', `?pool=${uniqueName('nopool')}`))).body, 404, 'NotFound');
    const missingNs = await call(fn('list-images', `?pool=rbd&namespace=${uniqueName('nons')}`));
    expectStatus(missingNs.body, 404, 'NotFound');
    expect(missingNs.body.message).toMatch(/Namespace .* does not exist/);
  });
});

describe('delete-image', () => {
  test('deletes, by DELETE with a query and by POST with a body', async () => {
    for (const how of ['DELETE', 'POST']) {
      const name = uniqueName('del');
      rbd('create', '--size', '1G', `rbd/${name}`);
      const res =
        how === 'DELETE'
          ? await call(fn('delete-image', `?pool=rbd&name=${name}`), { method: 'DELETE' })
          : await call(fn('delete-image'), { body: { pool: 'rbd', name } });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ kind: 'Status', apiVersion: 'v1', status: 'Success', code: 200, reason: 'Deleted', details: { pool: 'rbd', namespace: '', name } });
      expect(images('rbd')).not.toContain(name);
    }
  });

  test('trash=true moves the image to the trash', async () => {
    const name = uniqueName('trash');
    rbd('create', '--size', '1G', `rbd/${name}`);
    const res = await call(fn('delete-image'), { body: { pool: 'rbd', name, trash: true } });
    expect(res.body.reason).toBe('Trashed');
    expect(images('rbd')).not.toContain(name);
    const trash = JSON.parse(rbd('trash', 'ls', '--format', 'json', 'rbd')) as { id: string; name: string }[];
    const entry = trash.find((t) => t.name === name);
    expect(entry).toBeDefined();
    rbd('trash', 'rm', `rbd/${entry!.id}`);
  });

  test('missing image is 404', async () => {
    const res = await call(fn('delete-image', `?pool=rbd&name=${uniqueName('ghost')}`), { method: 'DELETE' });
    expectStatus(res.body, 404, 'NotFound');
  });

  test('an image with a watcher is 409 InUse naming the watcher, and stays', async () => {
    const name = uniqueName('busy');
    rbd('create', '--size', '1G', `rbd/${name}`);
    const watcher = await startWatch(`rbd/${name}`);
    try {
      const res = await call(fn('delete-image', `?pool=rbd&name=${name}`), { method: 'DELETE' });
      expectStatus(res.body, 409, 'InUse');
      expect(res.body.details.watchers).toHaveLength(1);
      expect(res.body.message).toContain(res.body.details.watchers[0]);
      expect(images('rbd')).toContain(name);
      const trashed = await call(fn('delete-image'), { body: { pool: 'rbd', name, trash: true } });
      expectStatus(trashed.body, 409, 'InUse');
    } finally {
      await stopWatch(watcher);
    }
    rbd('rm', `rbd/${name}`);
  });

  test('an image with snapshots is 409 HasSnapshots, and stays', async () => {
    const name = uniqueName('snap');
    rbd('create', '--size', '1G', `rbd/${name}`);
    rbd('snap', 'create', `rbd/${name}@s1`);
    const res = await call(fn('delete-image', `?pool=rbd&name=${name}`), { method: 'DELETE' });
    expectStatus(res.body, 409, 'HasSnapshots');
    expect(rbd('snap', 'ls', `rbd/${name}`)).toContain('s1');
    rbd('snap', 'purge', `rbd/${name}`);
    rbd('rm', `rbd/${name}`);
  });

  test('namespaces are honoured', async () => {
    const ns = uniqueName('dns');
    rbd('namespace', 'create', `rbd/${ns}`);
    const created = await call(fn('create-image'), { body: { pool: 'rbd', namespace: ns, name: 'x', size: '1Mi' } });
    expect(created.body.namespace).toBe(ns);
    expect(images(`rbd/${ns}`)).toEqual(['x']);
    expectStatus((await call(fn('delete-image', `?pool=rbd&name=x`), { method: 'DELETE' })).body, 404, 'NotFound');
    expect((await call(fn('delete-image', `?pool=rbd&namespace=${ns}&name=x`), { method: 'DELETE' })).status).toBe(200);
    expect(images(`rbd/${ns}`)).toEqual([]);
    rbd('namespace', 'remove', `rbd/${ns}`);
  });
});

describe('requests the runtime refuses', () => {
  test('oversized, malformed and non-JSON bodies', async () => {
    const big = await call(fn('create-image'), { raw: JSON.stringify({ pool: 'rbd', name: 'x', size: 1, pad: 'x'.repeat(70_000) }), headers: { 'content-type': 'application/json' }, method: 'POST' });
    expectStatus(big.body, 413, 'PayloadTooLarge');
    const broken = await call(fn('create-image'), { raw: '{"pool": "rbd",', headers: { 'content-type': 'application/json' }, method: 'POST' });
    expectStatus(broken.body, 400, 'BadRequest');
    const text = await call(fn('create-image'), { raw: 'pool=rbd', headers: { 'content-type': 'text/plain' }, method: 'POST' });
    expectStatus(text.body, 400, 'BadRequest');
    const xml = await call(fn('create-image'), { raw: '<pool>rbd</pool>', headers: { 'content-type': 'application/xml' }, method: 'POST' });
    expectStatus(xml.body, 415, 'UnsupportedMediaType');
    const array = await call(fn('create-image'), { body: [1, 2] });
    expectStatus(array.body, 400, 'BadRequest');
  });

  test('unknown routes are 404, wrong methods 405 with Allow', async () => {
    expectStatus((await call(`${gw.url}/nowhere`)).body, 404, 'NotFound');
    expectStatus((await call(fn('no-such-function'))).body, 404, 'NotFound');
    const put = await call(fn('create-image'), { method: 'PUT' });
    expectStatus(put.body, 405, 'MethodNotAllowed');
    expect(put.headers.get('allow')).toBe('POST');
    const get = await call(fn('delete-image'));
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('DELETE, POST');
  });

  test('X-Call-Id is echoed, or generated', async () => {
    const mine = await call(fn('list-pools'), { headers: { 'X-Call-Id': 'abc-123' } });
    expect(mine.headers.get('x-call-id')).toBe('abc-123');
    const generated = await call(fn('list-pools'));
    expect(generated.headers.get('x-call-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('runtime routes', () => {
  test('health, readiness (both spellings), /healthz and metrics', async () => {
    for (const path of ['/_/health', '/_/ready', '/health/liveness', '/health/readiness', '/healthz']) {
      expect((await call(`${gw.url}${path}`)).status).toBe(200);
    }
    await call(fn('list-pools'));
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toMatch(/rbd_function_requests_total\{function="list-pools",method="GET",status="200"\} \d+/);
    expect(metrics).toMatch(/rbd_function_request_duration_seconds_bucket\{le="[\d.]+",function="list-pools"\}/);
    expect(metrics).toMatch(/rbd_ceph_operation_duration_seconds_count\{op="listPools",outcome="ok"\} \d+/);
    expect(metrics).toContain('rbd_ceph_operations_in_flight 0');
    expect(metrics).toContain('rbd_ceph_ready 1');
  });
});

describe('seed-style facade', () => {
  test('pools, images, create and delete with the capitalised envelope', async () => {
    const pools = await call(`${gw.url}/api/v1/pools/`);
    expect(pools.body).toEqual({ Kind: 'PoolList', APIVersion: 'v1', Items: [{ name: 'rbd' }] });
    const name = uniqueName('facade');
    const created = await call(`${gw.url}/api/v1/pools/rbd/images/`, { body: { name, size: '1Gi', pool: 'ignored' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ Kind: 'Image', APIVersion: 'v1', pool: 'rbd', name, size: GiB });
    const listed = await call(`${gw.url}/api/v1/pools/rbd/images/`);
    expect(listed.body).toMatchObject({ Kind: 'ImageList', APIVersion: 'v1', Metadata: {} });
    expect(listed.body.Items).toContainEqual(expect.objectContaining({ name }));
    const deleted = await call(`${gw.url}/api/v1/pools/rbd/images/${name}`, { method: 'DELETE' });
    expect(deleted.body).toMatchObject({ Kind: 'Status', APIVersion: 'v1', status: 'Success', reason: 'Deleted' });
    const missing = await call(`${gw.url}/api/v1/pools/rbd/images/${name}`, { method: 'DELETE' });
    expect(missing.body).toMatchObject({ Kind: 'Status', APIVersion: 'v1', code: 404, reason: 'NotFound' });
    expect((await call(`${gw.url}/api/v1/pools/`, { method: 'POST', body: {} })).status).toBe(405);
  });
});

