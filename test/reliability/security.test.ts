/**
 * What must never get out or in: no key, keyring or token in any log line or
 * answer, and no way around the pool allowlist (encoded names, namespaces,
 * query/body tricks, the facade routes, events), checked with rados.
 */
import { adminKey, ceph, rbd, sandboxConfig, uniqueName } from '../helpers/ceph';
import { call, startGateway } from '../helpers/gateway';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';

const TOKEN = 'security-suite-token-5f1d2c3b4a';

test('no key, keyring line or token appears in a log line or an answer, whatever the request', async () => {
  const key = adminKey();
  const wrongKey = 'AQBzbJ1lAAAAABAAC8XqvD0bVnHNqjsr5dJ8Sw==';
  const gw = await startGateway({ RBD_API_TOKEN: TOKEN });
  // A gateway whose key the monitors refuse: its diagnosis must not quote the key.
  const refused = await startGateway({ RBD_API_TOKEN: TOKEN, CEPH_TIMEOUT_SECONDS: '3' }, () =>
    sandboxConfig({ CEPH_CONF: '', CEPH_KEYRING: '', CEPH_MON_HOST: process.env.CEPH_MON_HOST, CEPH_KEY: wrongKey }),
  );
  const answers: string[] = [];
  try {
    const name = uniqueName('secret-check');
    const auth = { authorization: `Bearer ${TOKEN}` };
    for (const [base, path, init] of [
      [gw.url, '/function/list-pools', { headers: auth }],
      [gw.url, '/function/create-image', { headers: auth, body: { pool: 'rbd', name, size: '1Mi' } }],
      [gw.url, '/function/create-image', { headers: auth, body: { pool: 'rbd', name, size: '2Mi' } }],
      [gw.url, `/function/delete-image?pool=rbd&name=${name}`, { headers: auth, method: 'DELETE' }],
      [gw.url, '/function/list-images?pool=no-such-pool', { headers: auth }],
      [gw.url, '/function/list-pools', { headers: { authorization: `Bearer ${TOKEN}x` } }],
      [gw.url, '/function/list-pools', { headers: { authorization: `Bearer ${key}` } }],
      [gw.url, '/function/create-image', { headers: auth, body: { pool: 'rbd', name: 'k', size: key } }],
      [gw.url, '/function/create-image', { headers: auth, body: { pool: 'rbd', name: key, size: -1 } }],
      [gw.url, '/function/create-image', { headers: auth, body: { pool: 'rbd', name: 'k', size: -1, key } }],
      [gw.url, '/metrics', {}],
      [refused.url, '/function/list-pools', { headers: auth }],
      [refused.url, '/_/ready', {}],
    ] as const) {
      const res = await fetch(`${base}${path}`, {
        method: 'method' in init ? init.method : 'body' in init ? 'POST' : 'GET',
        headers: { ...('headers' in init ? init.headers : {}), ...('body' in init ? { 'content-type': 'application/json' } : {}) },
        body: 'body' in init ? JSON.stringify(init.body) : undefined,
      });
      answers.push(`${res.status} ${[...res.headers].join(' ')} ${await res.text()}`);
    }
    expect(answers[1]).toMatch(/^201 /);
    expect(answers[11]).toMatch(/^503 .*ERR_CEPH_AUTH_FAILED/);
  } finally {
    await gw.close();
    await refused.close();
  }
  const logs = [...gw.logs, ...refused.logs].map((l) => JSON.stringify(l)).join('\n');
  expect(logs).toContain('"msg":"request"'); // the log was captured at all
  for (const secret of [TOKEN, key, wrongKey, key.slice(0, 20), wrongKey.slice(0, 20)]) {
    // Sent in by the caller is one thing (a name, a size): echoed back is not.
    expect(logs).not.toContain(secret);
    expect(answers.join('\n')).not.toContain(secret);
  }
  expect(logs).not.toMatch(/key\s*=\s*AQ/);
}, 60_000);

test('the token is compared in constant time: one timingSafeEqual of two 32-byte digests per request, whatever its length', async () => {
  const gw = await startGateway({ RBD_API_TOKEN: TOKEN });
  const compare = jest.spyOn(crypto, 'timingSafeEqual');
  try {
    const tries = ['', 'x', TOKEN.slice(0, -1), `${TOKEN}x`, TOKEN.replace(/.$/, 'Z'), 'y'.repeat(4000), TOKEN];
    for (const token of tries) {
      compare.mockClear();
      const answer = await call(`${gw.url}/function/list-pools`, { headers: { authorization: `Bearer ${token}` } });
      if (token === '') {
        // "Bearer " with nothing after it is malformed: refused before any comparison.
        expect(answer.status).toBe(401);
        expect(compare).not.toHaveBeenCalled();
        continue;
      }
      expect(answer.status).toBe(token === TOKEN ? 200 : 401);
      expect(compare).toHaveBeenCalledTimes(1);
      const [a, b] = compare.mock.calls[0]! as [Buffer, Buffer];
      expect([a.length, b.length]).toEqual([32, 32]);
    }
  } finally {
    compare.mockRestore();
    await gw.close();
  }
});

test('the pool allowlist holds against encoded names, namespaces, query/body tricks, the facade and events', async () => {
  const secret = uniqueName('secret');
  ceph('osd', 'pool', 'create', secret, '4');
  rbd('pool', 'init', secret);
  rbd('create', '--size', '1M', `${secret}/kept`);
  rbd('snap', 'create', `${secret}/kept@s`);
  rbd('create', '--size', '1M', `${secret}/gone`);
  rbd('trash', 'mv', `${secret}/gone`);
  const trashId = (JSON.parse(rbd('trash', 'ls', '--format', 'json', secret)) as { id: string }[])[0]!.id;
  const objects = () => execFileSync('rados', ['-c', process.env.CEPH_CONF!, '-p', secret, 'ls', '--all'], { encoding: 'utf8' }).split('\n').sort().join('\n');
  const before = objects();
  const gw = await startGateway({ RBD_POOLS: 'rbd' });
  try {
    const encoded = [...secret].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('');
    const attempts: [string, Parameters<typeof call>[1]][] = [
      [`/function/list-images?pool=${encoded}`, {}],
      [`/function/list-images?pool=${secret}&namespace=`, {}],
      [`/function/list-images?pool=rbd&namespace=../${secret}`, {}],
      [`/function/list-images?pool=rbd/${secret}`, {}],
      [`/function/list-images?pool=${secret.toUpperCase()}`, {}],
      [`/function/list-images?pool=rbd&pool=${secret}`, {}],
      ['/function/list-images?pool=rbd', { body: { pool: secret } }],
      ['/function/list-images', { body: { pool: secret, namespace: '' } }],
      ['/function/create-image', { body: { pool: secret, name: 'x', size: '1Mi' } }],
      ['/function/create-image', { body: { pool: 'rbd', name: 'x', size: '1Mi', dataPool: secret } }],
      ['/function/create-image?pool=rbd', { body: { pool: secret, name: 'x', size: '1Mi' } }],
      [`/function/delete-image?pool=${secret}&name=kept`, { method: 'DELETE' }],
      [`/function/delete-image?pool=${encoded}&name=kept`, { method: 'DELETE' }],
      ['/function/delete-image', { body: { pool: secret, name: 'kept', trash: true } }],
      [`/function/get-image?pool=${secret}&name=kept`, {}],
      ['/function/resize-image', { body: { pool: secret, name: 'kept', size: '2Mi' } }],
      ['/function/create-snapshot', { body: { pool: secret, image: 'kept', snapshot: 't' } }],
      [`/function/list-snapshots?pool=${encoded}&image=kept`, {}],
      [`/function/delete-snapshot?pool=${secret}&image=kept&snapshot=s`, { method: 'DELETE' }],
      ['/function/rollback-image', { body: { pool: secret, name: 'kept', snapshot: 's' } }],
      ['/function/clone-image', { body: { pool: secret, image: 'kept', snapshot: 's', name: 'x' } }],
      ['/function/clone-image', { body: { pool: secret, image: 'kept', snapshot: 's', name: 'x', targetPool: 'rbd' } }],
      ['/function/clone-image', { body: { pool: 'rbd', image: 'kept', snapshot: 's', name: 'x', targetPool: secret } }],
      ['/function/flatten-image', { body: { pool: secret, name: 'kept' } }],
      [`/function/list-trash?pool=${secret}`, {}],
      ['/function/restore-image', { body: { pool: secret, id: trashId } }],
      ['/function/purge-trash', { body: { pool: secret, expiredOnly: false } }],
      [`/api/v1/pools/${secret}/images`, {}],
      [`/api/v1/pools/${encoded}/images`, {}],
      [`/api/v1/pools/${secret}/images`, { body: { name: 'x', size: '1Mi' } }],
      ['/api/v1/pools/rbd/images', { body: { name: 'x', size: '1Mi', dataPool: secret } }],
      [`/api/v1/pools/${secret}/images/kept`, { method: 'DELETE' }],
      [`/api/v1/pools/${encoded}/images/kept`, { method: 'DELETE' }],
      ['/function/list-images', { headers: { 'ce-specversion': '1.0', 'ce-id': 'a1', 'ce-source': '/t', 'ce-type': 'io.ceph.rbd.images.list', 'content-type': 'application/json' }, raw: JSON.stringify({ pool: secret }) }],
      ['/function/delete-image', { headers: { 'ce-specversion': '1.0', 'ce-id': 'a2', 'ce-source': '/t', 'ce-type': 'io.ceph.rbd.image.delete', 'content-type': 'application/json' }, raw: JSON.stringify({ pool: secret, name: 'kept' }) }],
    ];
    for (const [path, init] of attempts) {
      const res = await call(`${gw.url}${path}`, init);
      const where = `${path} ${JSON.stringify(init)} → ${res.status} ${JSON.stringify(res.body)}`;
      if (res.headers.get('ce-type')) {
        // An event's definite failure is a 200 carrying an io.ceph.rbd.error reply.
        expect({ where, type: res.headers.get('ce-type'), code: res.body.code }).toEqual({ where, type: 'io.ceph.rbd.error', code: 403 });
      } else {
        expect({ where, ok: res.status >= 400 && res.status < 500 }).toEqual({ where, ok: true });
        expect(res.body).not.toHaveProperty('items');
        expect(res.body).not.toHaveProperty('Items');
      }
    }
    expect(rbd('ls', secret).trim()).toBe('kept');
    expect(rbd('trash', 'ls', secret)).toContain(trashId);
    expect(objects()).toBe(before);
    expect(rbd('ls', 'rbd').split('\n')).not.toContain('x');
  } finally {
    await gw.close();
    ceph('osd', 'pool', 'rm', secret, secret, '--yes-i-really-really-mean-it');
  }
}, 60_000);
