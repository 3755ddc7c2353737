/**
 * Hostile input, generated with fast-check: at least 1,000 requests against
 * every function through one gateway process. Each must be refused with a
 * 4xx and a Status body; none may answer 5xx; the process stays up; and the
 * pools are byte for byte as before (`rbd ls -l`). Every generated request
 * is wrong in at least one way that guarantees a refusal, so a 2xx is a bug.
 */
import fc from 'fast-check';
import net from 'node:net';
import { rbd } from '../helpers/ceph';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { functionNames } from '../../shared/runtime/functions';

const TOKEN = 'hostile-suite-token-0123456789abcdef';
const RUNS = 1200;
let gw: TestGateway;

beforeAll(async () => {
  gw = await startGateway({ RBD_API_TOKEN: TOKEN });
});
afterAll(() => gw.close());

interface Hostile {
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

const json = (value: unknown) => JSON.stringify(value);
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
const FUNCTIONS = functionNames();

// Names no pool or image here has: invalid ones (400), or valid and absent (404).
const badName = fc.oneof(
  fc.constantFrom('', '/', '@', 'a/b', 'a@b', 'a b', ' ', '\t', 'x\u0000y', 'x\u001fy', 'x\u007fy', '\ud800', 'x'.repeat(5000)),
  fc.string({ maxLength: 12 }).map((s) => `${s}/`),
  fc.string({ maxLength: 12 }).map((s) => `@${s}`),
  fc.string({ maxLength: 12 }).map((s) => `${s}\n`),
);
const absentName = fc.oneof(
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((s) => !/[/@\s\p{Cc}\p{Cs}]/u.test(s)),
  fc.stringMatching(/^[a-z0-9._-]{1,40}$/),
).map((s) => `hostile-absent-${s}`);
const anyName = fc.oneof(badName, absentName);
const badSize = fc.oneof(
  fc.integer({ max: 0 }),
  fc.double({ noNaN: false }).filter((n) => !Number.isSafeInteger(n) || n <= 0),
  // Not "1.5Ki": that is 1,536 bytes, a size.
  fc.constantFrom(2 ** 64, 2 ** 70, 1.5, -1, 0, '', '1.1', '0.3Ki', '10Qi', 'abc', '-1Gi', '0', '1e400', 'Infinity', 'NaN', '18446744073709551616'),
  fc.constantFrom(true, false, null, [], {}, [1], { size: 1 }),
  fc.string({ maxLength: 10 }).filter((s) => !/\d/.test(s)),
);
const badBool = fc.oneof(fc.constantFrom('yes', 'no', '2', 'TRUE ', 'null', '[]'), fc.integer({ min: 2 }), fc.constant({}));
const badLimit = fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 10_001 }), fc.constantFrom('x', '1.5', '-1', '1e3', 1.5, null, true, []));

const request = (kind: string, method: string, path: string, body?: unknown, headers: Record<string, string> = auth): Hostile => {
  const text = body === undefined ? undefined : typeof body === 'string' ? body : json(body);
  // A counterexample reads as one short line, however large the body.
  const shown = () => `${kind}: ${method} ${path} ${json(headers)} ${text === undefined ? '' : json(text.length > 200 ? `${text.slice(0, 200)}... (${text.length} chars)` : text)}`;
  return { kind, method, path, headers, body: text, [fc.toStringMethod]: shown } as Hostile;
};
const fn = (name: string) => `/function/${name}`;
/** encodeURIComponent, but a lone surrogate goes out as the invalid UTF-8 bytes ED A0 80. */
const encode = (s: string) => [...s].map((c) => (/^[\ud800-\udfff]$/.test(c) ? '%ED%A0%80' : encodeURIComponent(c))).join('');

/** Bad parameters for each function, in the body or the query string. */
const badParams = fc.oneof(
  badBool.map((all) => request('list-pools all', 'POST', fn('list-pools'), { all })),
  anyName.map((pool) => request('list-images pool', 'POST', fn('list-images'), { pool })),
  badLimit.map((limit) => request('list-images limit', 'POST', fn('list-images'), { pool: 'rbd', limit })),
  fc.string({ maxLength: 60 }).map((token) => request('list-images continue', 'POST', fn('list-images'), { pool: 'rbd', continue: `x${token}` })),
  fc.tuple(anyName, badSize).map(([name, size]) => request('create-image size', 'POST', fn('create-image'), { pool: 'rbd', name, size })),
  fc.tuple(badName, fc.constantFrom(1024, '1Gi')).map(([name, size]) => request('create-image name', 'POST', fn('create-image'), { pool: 'rbd', name, size })),
  fc.tuple(anyName, fc.constantFrom(1024, '1Gi')).map(([pool, size]) => request('create-image pool', 'POST', fn('create-image'), { pool, name: 'hostile-never', size })),
  fc.tuple(fc.constant('hostile-never'), badBool).map(([name, trash]) => request('delete-image trash', 'POST', fn('delete-image'), { pool: 'rbd', name, trash })),
  anyName.map((name) => request('delete-image name', 'DELETE', `${fn('delete-image')}?pool=rbd&name=${encode(name)}`)),
  anyName.map((pool) => request('delete-image pool', 'POST', fn('delete-image'), { pool, name: 'hostile-never' })),
  fc.tuple(fc.constantFrom(...FUNCTIONS), fc.constantFrom('namespace', 'dataPool'), badName).map(([f, key, value]) =>
    request(`${f} ${key}`, 'POST', fn(f), { pool: 'rbd', name: 'hostile-never', size: 'bad', [key]: value }),
  ),
  // The lifecycle functions: every request names an absent image, or has a bad parameter, or both.
  fc.tuple(anyName, badBool).map(([name, usage]) => request('get-image usage', 'POST', fn('get-image'), { pool: 'rbd', name, usage })),
  anyName.map((name) => request('get-image name', 'GET', `${fn('get-image')}?pool=rbd&name=${encode(name)}`)),
  fc.tuple(anyName, badSize).map(([name, size]) => request('resize-image size', 'POST', fn('resize-image'), { pool: 'rbd', name, size })),
  fc.tuple(anyName, badBool).map(([name, allowShrink]) => request('resize-image allowShrink', 'POST', fn('resize-image'), { pool: 'rbd', name, size: 1024, allowShrink })),
  fc.tuple(anyName, anyName, fc.constantFrom('create-snapshot', 'delete-snapshot')).map(([image, snapshot, f]) => request(`${f} names`, 'POST', fn(f), { pool: 'rbd', image, snapshot })),
  fc.tuple(absentName, badName).map(([image, snapshot]) => request('create-snapshot snapshot', 'POST', fn('create-snapshot'), { pool: 'rbd', image, snapshot, protect: true })),
  fc.tuple(anyName, badBool).map(([image, protect]) => request('create-snapshot protect', 'POST', fn('create-snapshot'), { pool: 'rbd', image, snapshot: 's', protect })),
  fc.tuple(anyName, badBool).map(([image, unprotect]) => request('delete-snapshot unprotect', 'DELETE', `${fn('delete-snapshot')}?pool=rbd&image=${encode(image)}&snapshot=s&unprotect=${encode(String(unprotect))}`)),
  anyName.map((image) => request('list-snapshots image', 'GET', `${fn('list-snapshots')}?pool=rbd&image=${encode(image)}`)),
  fc.tuple(anyName, anyName).map(([name, snapshot]) => request('rollback-image names', 'POST', fn('rollback-image'), { pool: 'rbd', name, snapshot })),
  fc.tuple(anyName, anyName, anyName).map(([image, snapshot, name]) => request('clone-image names', 'POST', fn('clone-image'), { pool: 'rbd', image, snapshot, name })),
  fc.tuple(anyName, fc.constantFrom('targetPool', 'targetNamespace'), badName).map(([image, key, value]) =>
    request(`clone-image ${key}`, 'POST', fn('clone-image'), { pool: 'rbd', image, snapshot: 's', name: 'hostile-never', [key]: value }),
  ),
  fc.tuple(absentName, fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.constant(['no-such-feature']))).map(([image, features]) =>
    request('clone-image features', 'POST', fn('clone-image'), { pool: 'rbd', image, snapshot: 's', name: 'hostile-never', features }),
  ),
  anyName.map((name) => request('flatten-image name', 'POST', fn('flatten-image'), { pool: 'rbd', name })),
  fc.tuple(anyName, fc.constantFrom('list-trash', 'purge-trash')).map(([pool, f]) => request(`${f} pool`, 'POST', fn(f), { pool })),
  badBool.map((expiredOnly) => request('purge-trash expiredOnly', 'POST', fn('purge-trash'), { pool: 'rbd', expiredOnly })),
  fc
    .oneof(fc.constantFrom('', 'ABC', 'x', '../x', 'a'.repeat(65), 0, null, true, [], {}), fc.stringMatching(/^[0-9a-f]{1,64}$/).map((id) => `hostile${id}`), fc.stringMatching(/^[0-9a-f]{1,32}$/))
    .map((id) => request('restore-image id', 'POST', fn('restore-image'), { pool: 'rbd', id })),
  fc.tuple(fc.stringMatching(/^[0-9a-f]{1,32}$/), badName).map(([id, name]) => request('restore-image name', 'POST', fn('restore-image'), { pool: 'rbd', id, name })),
  fc.tuple(fc.constantFrom('features', 'objectSize', 'stripeUnit', 'stripeCount'), fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.constant(['no-such-feature']))).map(
    ([key, value]) => request(`create-image ${key}`, 'POST', fn('create-image'), { pool: 'rbd', name: 'hostile-never', size: -1, [key]: value }),
  ),
);

/** The body itself: malformed JSON, deep nesting, not an object, duplicate keys. */
const badBodies = fc.oneof(
  fc.tuple(fc.constantFrom(...FUNCTIONS), fc.constantFrom('{', '{"pool":', 'nul', '[1,2', '{"pool":"rbd",}', "{'pool':'rbd'}", '{"a":1}}', '\u0000', '{"pool":"rbd"')).map(
    ([f, body]) => request('malformed JSON', 'POST', fn(f), body),
  ),
  fc.tuple(fc.constantFrom(...FUNCTIONS), fc.string({ minLength: 1, maxLength: 40 }).filter((s) => { try { JSON.parse(s); return false; } catch { return true; } })).map(
    ([f, body]) => request('random text as JSON', 'POST', fn(f), body),
  ),
  fc.tuple(fc.constantFrom(...FUNCTIONS), fc.integer({ min: 1000, max: 20_000 }), fc.boolean()).map(([f, depth, arrays]) =>
    request('deep nesting', 'POST', fn(f), arrays ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`),
  ),
  fc.tuple(fc.constantFrom(...FUNCTIONS), fc.constantFrom('[]', '[{"pool":"rbd"}]', '"rbd"', '42', 'true', 'null')).map(([f, body]) => request('not an object', 'POST', fn(f), body)),
  fc.tuple(fc.constantFrom(...FUNCTIONS), fc.constantFrom('pool', 'name', 'size')).map(([f, key]) =>
    request('duplicate keys', 'POST', fn(f), `{"pool":"rbd","name":"hostile-dup","size":"1Mi","${key}":${key === 'size' ? '"2Mi"' : '"other"'}}`),
  ),
  fc.tuple(fc.constantFrom(...FUNCTIONS), fc.constantFrom('pool', 'name')).map(([f, key]) =>
    request('query/body conflict', 'POST', `${fn(f)}?${key}=rbd`, { pool: 'rbd-other', name: 'hostile-conflict', size: '1Mi', [key]: 'hostile-other' }),
  ),
);

/** Everything around the body: content types, methods, tokens, routes, async callbacks. */
const badEnvelope = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(...FUNCTIONS),
      fc.constantFrom('application/xml', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', 'text/plain; charset=latin1', 'text/html', 'image/png'),
    )
    .map(([f, type]) => request('content type', 'POST', fn(f), { pool: 'rbd', name: 'hostile-never', size: '1Mi' }, { authorization: `Bearer ${TOKEN}`, 'content-type': type })),
  // What faas-cli invoke and curl -d send by default: read as JSON, so only a body that is not a JSON object (or breaks a JSON rule) is refused.
  fc
    .tuple(
      fc.constantFrom(...FUNCTIONS),
      fc.constantFrom('text/plain', 'application/x-www-form-urlencoded'),
      fc.oneof(
        fc.constantFrom('pool=rbd&name=hostile-never&size=1Mi', 'pool=rbd\n', '[{"pool":"rbd"}]\n', '"rbd"', 'null', '\n', '{"pool":"rbd"', '{"pool":"rbd","pool":"rbd"}'),
        fc.string({ minLength: 1, maxLength: 40 }).filter((s) => {
          try {
            JSON.parse(s);
            return false;
          } catch {
            return true;
          }
        }),
        fc.integer({ min: 40, max: 20_000 }).map((depth) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`),
      ),
    )
    .map(([f, type, body]) => request('CLI default content type', 'POST', fn(f), body, { authorization: `Bearer ${TOKEN}`, 'content-type': type })),
  // The same types from a browser are not read at all, whatever the body.
  fc
    .tuple(fc.constantFrom(...FUNCTIONS), fc.constantFrom('text/plain', 'application/x-www-form-urlencoded'), fc.constantFrom('http://evil.example', 'null'))
    .map(([f, type, origin]) =>
      request('browser content type', 'POST', fn(f), { pool: 'rbd', name: 'hostile-never', size: '1Mi' }, { authorization: `Bearer ${TOKEN}`, 'content-type': type, origin }),
    ),
  fc.tuple(fc.constantFrom(...FUNCTIONS), fc.constantFrom('PUT', 'PATCH')).map(([f, method]) => request('method', method, fn(f), { pool: 'rbd' })),
  fc.constantFrom('GET', 'DELETE').map((method) => request('method', method, fn('create-image'))),
  fc.constantFrom('PUT', 'DELETE', 'PATCH').map((method) => request('method', method, fn('list-pools'))),
  fc.tuple(
    fc.constantFrom(...FUNCTIONS),
    fc.oneof(
      fc.constantFrom('', 'Bearer', 'Bearer ', `Bearer ${TOKEN}x`, `Bearer  ${TOKEN}`, `bearer ${TOKEN}`, `Basic ${TOKEN}`, `Bearer ${TOKEN.slice(1)}`, `${TOKEN}`),
      fc.stringMatching(/^[\x21-\x7e]{0,80}$/).map((s) => `Bearer ${s}`),
    ),
  ).map(([f, authorization]) =>
    request('token', 'POST', fn(f), { pool: 'rbd', name: 'hostile-never', size: '1Mi' }, { ...(authorization ? { authorization } : {}), 'content-type': 'application/json' }),
  ),
  fc.string({ maxLength: 30 }).filter((s) => !FUNCTIONS.includes(`${s}x`)).map((f) => request('unknown function', 'POST', `/function/${encode(f)}x`, {})),
  fc.tuple(
    fc.constantFrom('create-image', 'delete-image'),
    fc.oneof(
      fc.constantFrom('file:///etc/passwd', 'gopher://127.0.0.1:70/', 'javascript:alert(1)', 'ftp://127.0.0.1/', 'data:text/plain,x', 'http://', '//127.0.0.1/cb', 'not a url', 'http://exa mple/', 'http://127.0.0.1:99999/'),
      fc.constantFrom('http:127.0.0.1/cb', 'http:/127.0.0.1/cb', 'http:\\\\127.0.0.1\\cb', 'https:///cb'),
      fc.stringMatching(/^[\x21-\x7e]{1,40}$/).filter((s) => !/^https?:\/\/[^/\\?#]/i.test(s)),
      // Header-injection characters, raw (the URL parser would drop a tab) or percent-encoded.
      fc
        .tuple(fc.constantFrom('%0d%0a', '%0D%0AX-Injected:%201', '%0a', '%00', '%7f', '\t', '\u00e9'), fc.stringMatching(/^[a-z0-9/]{0,12}$/))
        // Never last: HTTP strips a header value's trailing whitespace, so a final tab never arrives.
        .map(([bad, rest]) => `http://127.0.0.1/cb${bad}${rest}x`),
    ),
  ).map(([f, url]) =>
    request('async callback', 'POST', `/async-function/${f}`, { pool: 'rbd', name: 'hostile-async', size: '1Mi' }, { ...auth, 'x-callback-url': url }),
  ),
);

const hostile = fc.oneof(badParams, badBodies, badEnvelope);

async function send(req: Hostile): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${gw.url}${req.path}`, { method: req.method, headers: req.headers, body: req.body });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body };
}

test(`${RUNS} generated hostile requests: each a 4xx with a Status, no 5xx, the process up, the pools unchanged`, async () => {
  // Images with their snapshots, and the trash: nothing may change.
  const pools = () => ['rbd'].map((p) => rbd('ls', '-l', '--format', 'json', p) + rbd('trash', 'ls', '--format', 'json', p)).join('\n');
  const before = pools();
  const kinds = new Map<string, number>();
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(hostile, async (req) => {
      const { status, body } = await send(req);
      kinds.set(req.kind, (kinds.get(req.kind) ?? 0) + 1);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      expect(status).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(500);
      expect(body).toMatchObject({ kind: 'Status', status: 'Failure', code: status, reason: expect.any(String), message: expect.any(String) });
    }),
    { numRuns: RUNS, seed: Number(process.env.FC_SEED ?? Date.now() % 2 ** 31), verbose: 1 },
  );
  expect((await fetch(`${gw.url}/_/health`)).status).toBe(200);
  expect((await fetch(`${gw.url}/_/ready`)).status).toBe(200);
  expect(pools()).toBe(before);
  // Every kind of hostility was tried, and what it drew.
  expect(kinds.size).toBeGreaterThanOrEqual(40);
  process.stderr.write(`hostile input: ${RUNS} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}\n`);
}, 300_000);

/** One request written byte for byte on a socket: the status and body that come back. */
function raw(request: string): Promise<{ status: number; body: unknown }> {
  const { port } = new URL(gw.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => socket.end(request));
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => {
      // The first answer only: one may follow for bytes after a request already answered.
      const end = text.indexOf('\r\n\r\n');
      const head = text.slice(0, end);
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      const body = text.slice(end + 4, end + 4 + length);
      let parsed: unknown = body;
      try {
        parsed = JSON.parse(body);
      } catch {
        // left as text: the assertion shows it
      }
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), body: parsed });
    });
  });
}

test('requests that Node\'s HTTP parser refuses (CR, LF or NUL in a header, bad request lines, huge headers) get a 4xx Status too', async () => {
  const post = (headers: string) => `POST /async-function/create-image HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\n${headers}Content-Length: 2\r\n\r\n{}`;
  const cases = [
    post('X-Callback-Url: http://127.0.0.1/cb\rX-Injected: 1\r\n'),
    post('X-Callback-Url: http://127.0.0.1/cb\u0000\r\n'),
    post('X-Callback-Url: http://127.0.0.1/cb\r\n X-Injected: 1\r\n'), // obsolete line folding
    post('X Callback: http://127.0.0.1/\r\n'),
    post(`X-Big: ${'a'.repeat(20_000)}\r\n`),
    'GE T /function/list-pools HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET /function/list-pools HTTP/9.9\r\nHost: x\r\n\r\n',
    `POST /function/create-image HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
    'POST /function/create-image HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}',
    `POST /function/create-image HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2;${'e'.repeat(20_000)}\r\n{}\r\n0\r\n\r\n`,
  ];
  const statuses: number[] = [];
  for (const request of cases) {
    const { status, body } = await raw(request);
    statuses.push(status);
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(500);
    expect(body).toMatchObject({ kind: 'Status', status: 'Failure', code: status, reason: expect.any(String), message: expect.any(String) });
  }
  expect((await fetch(`${gw.url}/_/ready`)).status).toBe(200);
  process.stderr.write(`hostile input: ${cases.length} raw malformed requests, statuses ${statuses.join(', ')}\n`);
});

test('a body that breaks mid-request on a kept-open socket: the socket is closed and nothing stays in flight', async () => {
  const { port } = new URL(gw.url);
  const socket = net.connect(Number(port), '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  let text = '';
  socket.on('data', (chunk) => (text += chunk.toString('latin1')));
  const closed = new Promise((resolve) => socket.once('close', resolve));
  // Headers fine, so the request reaches express; the chunk size is not hex. The client never ends its side.
  socket.write(
    `POST /function/create-image HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\nzz\r\n`,
  );
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([closed.then(() => 'closed'), new Promise((resolve) => (timer = setTimeout(resolve, 5000, 'still open')))]);
  clearTimeout(timer);
  socket.destroy();
  expect(outcome).toBe('closed');
  expect(text).toMatch(/^HTTP\/1\.1 400 /);
  expect(text).toContain('"kind":"Status"');
  const metrics = await fetch(`${gw.url}/metrics`).then((r) => r.text());
  expect(metrics).toMatch(/^rbd_function_requests_in_flight 0$/m);
});
