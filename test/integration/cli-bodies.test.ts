/**
 * The bodies the OpenFaaS CLI and curl send when told nothing about the
 * content type, through the local gateway against the real cluster.
 *
 * faas-cli invoke (openfaas/faas-cli, commands/invoke.go): the body is stdin
 * as read by io.ReadAll, so `echo '{"pool":"rbd"}' | faas-cli invoke ...`
 * sends echo's trailing newline too; `--content-type` defaults to
 * "text/plain", set as the Content-Type header as it is; the method is POST;
 * Go's client adds User-Agent, Content-Length and Accept-Encoding: gzip. The
 * gateway forwards body and headers to the function unchanged. The request
 * below is written on a socket byte for byte in that form.
 *
 * curl -d: the real curl runs, and its own verbose trace shows what it sent
 * (application/x-www-form-urlencoded, the bytes as given, no newline).
 */
import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import { rbd, rbdInfo, uniqueName } from '../helpers/ceph';
import { call, expectStatus, startGateway, type TestGateway } from '../helpers/gateway';

const run = promisify(execFile);
let gw: TestGateway;
const images = () => rbd('ls', 'rbd').split('\n').filter(Boolean);

beforeAll(async () => {
  gw = await startGateway();
});
afterAll(() => gw.close());

interface Answer {
  status: number;
  body: any;
}

/** `printf %s "$stdin" | faas-cli invoke [--async] <name>`, as its HTTP request. */
function faasCliInvoke(name: string, stdin: string, { async = false, contentType = 'text/plain' } = {}): Promise<Answer> {
  const { port } = new URL(gw.url);
  const body = Buffer.from(stdin);
  const request = Buffer.concat([
    Buffer.from(
      `POST /${async ? 'async-function' : 'function'}/${name} HTTP/1.1\r\n` +
        `Host: 127.0.0.1:${port}\r\n` +
        'User-Agent: faas-cli/0.17.4 (openfaas; linux; amd64)\r\n' +
        `Content-Length: ${body.length}\r\n` +
        `Content-Type: ${contentType}\r\n` +
        'Accept-Encoding: gzip\r\n\r\n',
    ),
    body,
  ]);
  return new Promise((resolve, reject) => {
    // Go keeps the connection open, so the answer ends at its Content-Length.
    const socket = net.connect(Number(port), '127.0.0.1', () => socket.write(request));
    let received = Buffer.alloc(0);
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = received.subarray(0, end).toString('latin1');
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (received.length < end + 4 + length) return;
      socket.destroy();
      const text = received.subarray(end + 4, end + 4 + length).toString('utf8');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), body: text ? JSON.parse(text) : undefined });
    });
  });
}

/** The real `curl -d <data> <url>`: its answer, and the request headers its verbose trace shows it sent. */
async function curlData(name: string, data: string): Promise<Answer & { sent: string[] }> {
  const { stdout, stderr } = await run('curl', ['-sS', '-v', '-w', '\n%{http_code}', '-d', data, `${gw.url}/function/${name}`]);
  const cut = stdout.lastIndexOf('\n');
  const text = stdout.slice(0, cut);
  const sent = stderr
    .split(/\r?\n/)
    .filter((line) => line.startsWith('> '))
    .map((line) => line.slice(2));
  return { status: Number(stdout.slice(cut + 1)), body: text ? JSON.parse(text) : undefined, sent };
}

describe('faas-cli invoke (Content-Type: text/plain, stdin as the body)', () => {
  test('echo \'{"pool":"rbd"}\' | faas-cli invoke list-images: the same answer as a JSON call', async () => {
    const name = uniqueName('cli');
    rbd('create', '--size', '1M', `rbd/${name}`);
    try {
      const res = await faasCliInvoke('list-images', '{"pool":"rbd"}\n');
      expect(res.status).toBe(200);
      expect(res.body.items.map((i: { name: string }) => i.name)).toContain(name);
      expect(res.body).toEqual((await call(`${gw.url}/function/list-images`, { body: { pool: 'rbd' } })).body);
    } finally {
      rbd('rm', `rbd/${name}`);
    }
  });

  test('a create through faas-cli makes the image; an empty stdin is no body', async () => {
    const name = uniqueName('cli');
    const res = await faasCliInvoke('create-image', `{"pool":"rbd","name":"${name}","size":"1Mi"}\n`);
    expect(res.status).toBe(201);
    expect(rbdInfo(`rbd/${name}`)).toMatchObject({ size: 2 ** 20 });
    rbd('rm', `rbd/${name}`);
    const pools = await faasCliInvoke('list-pools', '');
    expect(pools.status).toBe(200);
    expect(pools.body.items.map((p: { name: string }) => p.name)).toContain('rbd');
  });

  test('faas-cli invoke --async: accepted and run', async () => {
    const name = uniqueName('cli-async');
    const res = await faasCliInvoke('create-image', `{"pool":"rbd","name":"${name}","size":"1Mi"}\n`, { async: true });
    expect(res.status).toBe(202);
    for (let i = 0; i < 200 && !images().includes(name); i++) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(images()).toContain(name);
    rbd('rm', `rbd/${name}`);
  });

  test('a body that is not a JSON object is a 400 that says to send JSON, and changes nothing', async () => {
    const before = images();
    for (const stdin of ['pool=rbd name=cli-never size=1Mi\n', 'cli-never\n', '["rbd"]\n', '"rbd"\n', '42\n', 'null\n', '\n', '{"pool":"rbd",\n']) {
      const res = await faasCliInvoke('create-image', stdin);
      expectStatus(res.body, 400, 'BadRequest');
      expect(res.body.message).toContain('Content-Type: application/json');
    }
    const async = await faasCliInvoke('create-image', 'cli-never\n', { async: true });
    expectStatus(async.body, 400, 'BadRequest');
    expect(images()).toEqual(before);
  });

  test('the same rules as JSON: duplicate keys, depth and size', async () => {
    const duplicate = await faasCliInvoke('create-image', '{"pool":"rbd","name":"cli-never","size":"1Mi","name":"other"}\n');
    expectStatus(duplicate.body, 400, 'BadRequest');
    expect(duplicate.body.message).toContain('"name" is given twice');
    const deep = await faasCliInvoke('list-pools', `${'{"a":'.repeat(40)}1${'}'.repeat(40)}\n`);
    expectStatus(deep.body, 400, 'BadRequest');
    expect(deep.body.message).toContain('deeper than');
    const big = await faasCliInvoke('create-image', `${JSON.stringify({ pool: 'rbd', name: 'cli-never', size: '1Mi', pad: 'x'.repeat(70_000) })}\n`);
    expectStatus(big.body, 413, 'PayloadTooLarge');
    const latin1 = await faasCliInvoke('list-pools', '{}\n', { contentType: 'text/plain; charset=latin1' });
    expectStatus(latin1.body, 415, 'UnsupportedMediaType');
  });

  test('other content types stay 415', async () => {
    for (const contentType of ['application/xml', 'text/html', 'application/octet-stream', 'multipart/form-data; boundary=x']) {
      const res = await faasCliInvoke('list-pools', '{}\n', { contentType });
      expectStatus(res.body, 415, 'UnsupportedMediaType');
    }
  });

  test('from a browser (Origin, Sec-Fetch-Site) text/plain and forms stay 415: a web page cannot send a body without a preflight', async () => {
    const name = uniqueName('browser');
    const body = JSON.stringify({ pool: 'rbd', name, size: '1Mi' });
    for (const [type, browser] of [
      ['text/plain;charset=UTF-8', { origin: 'http://evil.example' }],
      ['application/x-www-form-urlencoded', { origin: 'null' }],
      ['text/plain', { 'sec-fetch-site': 'cross-site' }],
    ] as const) {
      const res = await call(`${gw.url}/function/create-image`, { method: 'POST', raw: body, headers: { 'content-type': type, ...browser } });
      expectStatus(res.body, 415, 'UnsupportedMediaType');
    }
    expect(images()).not.toContain(name);
    const json = await call(`${gw.url}/function/list-pools`, { body: {}, headers: { origin: 'http://localhost:8080', 'sec-fetch-site': 'same-origin' } });
    expect(json.status).toBe(200);
  });

  test('a CloudEvent takes JSON data only: a binary-mode event sent as text/plain stays 415', async () => {
    const res = await call(`${gw.url}/function/list-pools`, {
      method: 'POST',
      raw: '{}',
      headers: { 'ce-specversion': '1.0', 'ce-id': 'cli-1', 'ce-source': '/tests', 'ce-type': 'io.ceph.rbd.pools.list', 'content-type': 'text/plain' },
    });
    expectStatus(res.body, 415, 'UnsupportedMediaType');
  });
});

describe('curl -d (Content-Type: application/x-www-form-urlencoded, the bytes as given)', () => {
  test('curl -d \'{"pool":"rbd","name":...,"size":"1Mi"}\' creates the image', async () => {
    const name = uniqueName('curl');
    const res = await curlData('create-image', `{"pool":"rbd","name":"${name}","size":"1Mi"}`);
    expect(res.sent).toEqual(expect.arrayContaining(['POST /function/create-image HTTP/1.1', 'Content-Type: application/x-www-form-urlencoded']));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ kind: 'Image', pool: 'rbd', name, size: 2 ** 20 });
    expect(rbdInfo(`rbd/${name}`)).toMatchObject({ size: 2 ** 20 });
    rbd('rm', `rbd/${name}`);
  });

  test('curl -d with form fields, or JSON that is not an object, is a 400 that says to send JSON', async () => {
    const before = images();
    for (const data of ['pool=rbd&name=curl-never&size=1Mi', '[{"pool":"rbd"}]', '{"pool":"rbd","name":"curl-never","size":"1Mi","pool":"rbd"}']) {
      const res = await curlData('create-image', data);
      expect(res.sent).toContain('Content-Type: application/x-www-form-urlencoded');
      expectStatus(res.body, 400, 'BadRequest');
    }
    const form = await curlData('create-image', 'pool=rbd&name=curl-never&size=1Mi');
    expect(form.body.message).toContain('Content-Type: application/json');
    expect(images()).toEqual(before);
  });
});
