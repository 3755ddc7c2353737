/**
 * CloudEvents in and out of the functions, through the local gateway,
 * against the real cluster: binary and structured requests with their
 * binary replies, io.ceph.rbd.error replies, refusals, K_SINK announcements (also
 * to a sink that is down), and a chain in which one function's event
 * drives the next.
 */
import { CloudEvent, HTTP, type CloudEventV1 } from 'cloudevents';
import type { CephConfig } from '../../shared/config';
import { adminKey, rbd, uniqueName } from '../helpers/ceph';
import { freePort } from '../helpers/net';
import { call, startGateway, type TestGateway } from '../helpers/gateway';
import { startReceiver, type Received, type Receiver } from '../helpers/receiver';

const images = () => rbd('ls', 'rbd').split('\n').filter(Boolean);
type Mode = 'binary' | 'structured';

/** Sends a CloudEvent to a function; returns the HTTP status and the reply parsed by the SDK. */
async function send(gw: TestGateway, fn: string, type: string, data: unknown, mode: Mode = 'binary') {
  const request = new CloudEvent({ type, source: '/tests/events', data, datacontenttype: 'application/json' });
  const message = mode === 'binary' ? HTTP.binary(request) : HTTP.structured(request);
  const res = await fetch(`${gw.url}/function/${fn}`, { method: 'POST', headers: message.headers as Record<string, string>, body: message.body as string });
  const headers = Object.fromEntries(res.headers);
  const body = await res.text();
  const reply = headers['ce-id'] ? (HTTP.toEvent({ headers, body }) as CloudEventV1<any>) : undefined;
  return { status: res.status, headers, body, reply, request };
}

function eventOf(received: Received): CloudEventV1<any> {
  return HTTP.toEvent({ headers: received.headers, body: received.body }) as CloudEventV1<any>;
}

describe.each<Mode>(['binary', 'structured'])('a %s-mode CloudEvent to each function', (mode) => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(() => gw.close());

  test('io.ceph.rbd.pools.list → io.ceph.rbd.pools.listed with the pools', async () => {
    const { status, reply, request, headers } = await send(gw, 'list-pools', 'io.ceph.rbd.pools.list', {}, mode);
    expect(status).toBe(200);
    expect(headers['content-type']).toMatch(/^application\/json/);
    expect(reply).toMatchObject({ specversion: '1.0', type: 'io.ceph.rbd.pools.listed', source: '/rbd-functions/list-pools', datacontenttype: 'application/json' });
    expect(reply!.id).not.toBe(request.id);
    expect(reply!.data.items.map((p: { name: string }) => p.name)).toContain('rbd');
  });

  test('io.ceph.rbd.image.create → io.ceph.rbd.image.created, subject pool/image, and the image exists', async () => {
    const name = uniqueName(`ce-${mode}`);
    const { status, reply } = await send(gw, 'create-image', 'io.ceph.rbd.image.create', { pool: 'rbd', name, size: '2Mi' }, mode);
    expect(status).toBe(201);
    expect(reply).toMatchObject({ type: 'io.ceph.rbd.image.created', source: '/rbd-functions/create-image', subject: `rbd/${name}` });
    expect(reply!.data).toMatchObject({ kind: 'Image', pool: 'rbd', name, size: 2 * 2 ** 20 });
    expect(images()).toContain(name);

    const listed = await send(gw, 'list-images', 'io.ceph.rbd.images.list', { pool: 'rbd' }, mode);
    expect(listed.reply).toMatchObject({ type: 'io.ceph.rbd.images.listed', subject: 'rbd' });
    expect(listed.reply!.data.items.map((i: { name: string }) => i.name)).toContain(name);

    const deleted = await send(gw, 'delete-image', 'io.ceph.rbd.image.delete', { pool: 'rbd', name }, mode);
    expect(deleted.status).toBe(200);
    expect(deleted.reply).toMatchObject({ type: 'io.ceph.rbd.image.deleted', subject: `rbd/${name}` });
    expect(deleted.reply!.data).toMatchObject({ kind: 'Status', status: 'Success', reason: 'Deleted' });
    expect(images()).not.toContain(name);
  });

  test('a definite failure is a 200 io.ceph.rbd.error reply whose data is the Status', async () => {
    const name = uniqueName('gone');
    const { status, reply } = await send(gw, 'delete-image', 'io.ceph.rbd.image.delete', { pool: 'rbd', name }, mode);
    expect(status).toBe(200);
    expect(reply).toMatchObject({ type: 'io.ceph.rbd.error', source: '/rbd-functions/delete-image', subject: `rbd/${name}` });
    expect(reply!.data).toMatchObject({ kind: 'Status', status: 'Failure', code: 404, reason: 'NotFound' });

    const bad = await send(gw, 'create-image', 'io.ceph.rbd.image.create', { pool: 'rbd', name, size: 'huge' }, mode);
    expect(bad.status).toBe(200);
    expect(bad.reply!.type).toBe('io.ceph.rbd.error');
    expect(bad.reply!.data).toMatchObject({ code: 400, reason: 'BadRequest' });
    expect(images()).not.toContain(name);
  });

  test('a type the function does not handle is a 400 naming the accepted type, and nothing changes', async () => {
    const name = uniqueName('wrongtype');
    const { status, body, reply } = await send(gw, 'delete-image', 'io.ceph.rbd.image.create', { pool: 'rbd', name, size: '1Mi' }, mode);
    expect(status).toBe(400);
    expect(reply).toBeUndefined();
    expect(JSON.parse(body)).toMatchObject({ code: 400, reason: 'BadRequest', details: { type: 'io.ceph.rbd.image.create', accepts: ['io.ceph.rbd.image.delete'] } });
    expect(JSON.parse(body).message).toContain('accepts io.ceph.rbd.image.delete');
    expect(images()).not.toContain(name);
  });
});

describe('bare request types from before the io.ceph.rbd. prefix (deprecated, taken for one release)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(() => gw.close());
  const warnings = () => gw.logs.filter((l) => l.level === 40 && typeof l.msg === 'string' && l.msg.includes('is deprecated'));

  test('answered as usual with the prefixed reply type, and one warning per type naming the type to send', async () => {
    const binary = await send(gw, 'list-pools', 'rbd.pools.list', {});
    expect(binary.status).toBe(200);
    expect(binary.reply).toMatchObject({ type: 'io.ceph.rbd.pools.listed', source: '/rbd-functions/list-pools' });
    expect(binary.reply!.data.items.map((p: { name: string }) => p.name)).toContain('rbd');
    expect(warnings()).toEqual([
      expect.objectContaining({
        eventType: 'rbd.pools.list',
        use: 'io.ceph.rbd.pools.list',
        msg: 'CloudEvent type "rbd.pools.list" is deprecated and will be refused from the next release; send "io.ceph.rbd.pools.list" (and filter on it).',
      }),
    ]);
    // The same type again, in the other mode: answered, not warned about twice.
    const structured = await send(gw, 'list-pools', 'rbd.pools.list', {}, 'structured');
    expect(structured.reply).toMatchObject({ type: 'io.ceph.rbd.pools.listed' });
    expect(warnings()).toHaveLength(1);
    // Another bare type has a warning of its own.
    const listed = await send(gw, 'list-images', 'rbd.images.list', { pool: 'rbd' });
    expect(listed.reply).toMatchObject({ type: 'io.ceph.rbd.images.listed', subject: 'rbd' });
    expect(warnings().map((l) => l.eventType)).toEqual(['rbd.pools.list', 'rbd.images.list']);
  });

  test('a failure answers the prefixed error type; a bare type of another function is still a 400', async () => {
    const name = uniqueName('bare');
    const missing = await send(gw, 'delete-image', 'rbd.image.delete', { pool: 'rbd', name });
    expect(missing.status).toBe(200);
    expect(missing.reply).toMatchObject({ type: 'io.ceph.rbd.error', data: { code: 404, reason: 'NotFound' } });
    const wrong = await send(gw, 'delete-image', 'rbd.image.create', { pool: 'rbd', name, size: '1Mi' });
    expect(wrong.status).toBe(400);
    expect(JSON.parse(wrong.body)).toMatchObject({ details: { type: 'rbd.image.create', accepts: ['io.ceph.rbd.image.delete'] } });
    expect(images()).not.toContain(name);
  });
});

describe('invalid CloudEvents', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(() => gw.close());

  test.each([
    ['binary without ce-source', { 'ce-specversion': '1.0', 'ce-id': '1', 'ce-type': 'io.ceph.rbd.pools.list', 'content-type': 'application/json' }, '{}', /source/],
    ['structured without id', { 'content-type': 'application/cloudevents+json' }, JSON.stringify({ specversion: '1.0', source: '/x', type: 'io.ceph.rbd.pools.list' }), /id/],
    ['specversion 0.3', { 'content-type': 'application/cloudevents+json' }, JSON.stringify({ specversion: '0.3', id: '1', source: '/x', type: 'io.ceph.rbd.pools.list' }), /specversion 1\.0/],
    ['a batch', { 'content-type': 'application/cloudevents-batch+json' }, '[]', /one event per request/],
    ['structured with a body that is not JSON', { 'content-type': 'application/cloudevents+json' }, '{nope', /not valid JSON/],
  ])('%s → 400 with the reason', async (_what, headers, raw, reason) => {
    const res = await call(`${gw.url}/function/list-pools`, { method: 'POST', headers: headers as Record<string, string>, raw });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ kind: 'Status', code: 400, reason: 'BadRequest' });
    expect(res.body.message).toMatch(reason);
  });
});

describe('a failure worth retrying', () => {
  test('keeps its status (503) so a broker redelivers, with an io.ceph.rbd.error reply', async () => {
    const deadPort = await freePort();
    // Monitors that are not there: every call answers 503 until they are.
    const deadMons = (): CephConfig => ({ id: 'admin', monHost: `v2:127.0.0.1:${deadPort}`, key: adminKey(), timeoutSeconds: 1, sources: {} });
    const gw = await startGateway({ CEPH_CHECK_INTERVAL_SECONDS: '60' }, deadMons);
    try {
      const { status, reply } = await send(gw, 'list-pools', 'io.ceph.rbd.pools.list', {});
      expect(status).toBe(503);
      expect(reply).toMatchObject({ type: 'io.ceph.rbd.error' });
      expect(reply!.data).toMatchObject({ code: 503, reason: 'ServiceUnavailable' });
    } finally {
      await gw.close();
    }
  }, 30_000);
});

describe('announcing changes to K_SINK', () => {
  let gw: TestGateway;
  let sink: Receiver;
  beforeAll(async () => {
    sink = await startReceiver();
    gw = await startGateway({ K_SINK: sink.url, K_CE_OVERRIDES: '{"extensions":{"cluster":"sandbox"}}' });
  });
  afterAll(async () => {
    await gw.close();
    await sink.close();
  });

  test('a plain HTTP create and delete each emit their event; an idempotent repeat emits nothing', async () => {
    const name = uniqueName('sink');
    const created = await call(`${gw.url}/function/create-image`, { body: { pool: 'rbd', name, size: '1Mi' } });
    expect(created.status).toBe(201);
    const [first] = await sink.waitFor(1);
    const event = eventOf(first!);
    expect(event).toMatchObject({ type: 'io.ceph.rbd.image.created', source: '/rbd-functions/create-image', subject: `rbd/${name}`, cluster: 'sandbox' });
    expect(event.data).toEqual(created.body);

    const again = await call(`${gw.url}/function/create-image`, { body: { pool: 'rbd', name, size: '1Mi' } });
    expect(again.status).toBe(200);

    const deleted = await call(`${gw.url}/function/delete-image`, { method: 'DELETE', body: { pool: 'rbd', name } });
    expect(deleted.status).toBe(200);
    const second = await sink.waitFor(2);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(sink.received).toHaveLength(2);
    expect(eventOf(second[1]!)).toMatchObject({ type: 'io.ceph.rbd.image.deleted', subject: `rbd/${name}`, data: { reason: 'Deleted' } });
    // Reads announce nothing.
    await call(`${gw.url}/function/list-images?pool=rbd`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sink.received).toHaveLength(2);
  });

  test('for a CloudEvent request, the announcement is the reply itself (same id), so consumers can dedupe', async () => {
    const name = uniqueName('dedupe');
    const before = sink.received.length;
    const { reply } = await send(gw, 'create-image', 'io.ceph.rbd.image.create', { pool: 'rbd', name, size: '1Mi' });
    const announced = eventOf((await sink.waitFor(before + 1))[before]!);
    expect(announced.id).toBe(reply!.id);
    expect(announced.type).toBe('io.ceph.rbd.image.created');
    rbd('rm', '--no-progress', `rbd/${name}`);
  });

  test('the answer does not wait for the sink', async () => {
    const slow = await startReceiver({ delayMs: 3000 });
    const gw2 = await startGateway({ K_SINK: slow.url });
    const name = uniqueName('slow');
    try {
      const started = Date.now();
      const res = await call(`${gw2.url}/function/create-image`, { body: { pool: 'rbd', name, size: '1Mi' } });
      expect(res.status).toBe(201);
      expect(Date.now() - started).toBeLessThan(2000);
      await slow.waitFor(1);
    } finally {
      await gw2.close();
      await slow.close();
      rbd('rm', '--no-progress', `rbd/${name}`);
    }
  });

  test('a sink that is down: the request still succeeds, delivery is retried, and the failure is logged', async () => {
    const down = `http://127.0.0.1:${await freePort()}/`;
    const gw2 = await startGateway({ K_SINK: down, RBD_DELIVERY_RETRIES: '2', RBD_DELIVERY_BACKOFF: '20ms' });
    const name = uniqueName('down');
    try {
      const res = await call(`${gw2.url}/function/create-image`, { body: { pool: 'rbd', name, size: '1Mi' } });
      expect(res.status).toBe(201);
      expect(images()).toContain(name);
      await gw2.runtime.deliveries.settle(5000);
      const callId = res.headers.get('x-call-id');
      expect(gw2.logs.filter((l) => l.msg === 'event to K_SINK failed; retrying' && l.callId === callId)).toHaveLength(2);
      expect(gw2.logs.find((l) => l.msg === 'event to K_SINK failed; giving up')).toMatchObject({ callId, eventType: 'io.ceph.rbd.image.created', attempts: 3, level: 50, url: down });
    } finally {
      await gw2.close();
      rbd('rm', '--no-progress', `rbd/${name}`);
    }
  });
});

describe('functions triggering functions', () => {
  test('create → io.ceph.rbd.image.created at the sink → a trigger sends io.ceph.rbd.image.delete → io.ceph.rbd.image.deleted is emitted', async () => {
    const sink = await startReceiver();
    const gw = await startGateway({ K_SINK: sink.url });
    const name = uniqueName('chain');
    try {
      // Hop 1: an event asks for an image; the reply says it exists, and so does the sink.
      const created = await send(gw, 'create-image', 'io.ceph.rbd.image.create', { pool: 'rbd', name, size: '4Mi' });
      expect(created.reply).toMatchObject({ type: 'io.ceph.rbd.image.created', subject: `rbd/${name}` });
      expect(images()).toContain(name);
      const atSink = eventOf((await sink.waitFor(1))[0]!);
      expect(atSink).toMatchObject({ type: 'io.ceph.rbd.image.created', id: created.reply!.id });

      // Hop 2: a trigger on io.ceph.rbd.image.created (here, this test, as a broker would) asks to delete it.
      const { pool, namespace, name: image } = atSink.data as { pool: string; namespace: string; name: string };
      const deleted = await send(gw, 'delete-image', 'io.ceph.rbd.image.delete', { pool, namespace, name: image });
      expect(deleted.reply).toMatchObject({ type: 'io.ceph.rbd.image.deleted', subject: `rbd/${name}` });
      expect(images()).not.toContain(name);

      // Hop 3: the deletion is announced.
      const announced = eventOf((await sink.waitFor(2))[1]!);
      expect(announced).toMatchObject({ type: 'io.ceph.rbd.image.deleted', subject: `rbd/${name}`, id: deleted.reply!.id });
    } finally {
      await gw.close();
      await sink.close();
    }
  });
});
