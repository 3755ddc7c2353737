/**
 * Connecting, closing and diagnosing connect failures, against the real
 * sandbox cluster. Each failure must name the file or address at fault.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CephClient } from '../../shared/ceph/client';
import { CephError } from '../../shared/errors';
import { adminKey, ceph, connectSandbox, sandboxConfig, uniqueName } from '../helpers/ceph';
import { freePort } from '../helpers/net';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rbdfn-connect-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A copy of the sandbox conf with its keyring line removed or replaced. */
function confWithKeyring(name: string, keyring: string | undefined): string {
  const original = fs.readFileSync(process.env.CEPH_CONF!, 'utf8');
  const stripped = original.replace(/^\s*keyring\s*=.*$/gm, '');
  const file = path.join(tmp, name);
  fs.writeFileSync(file, keyring ? stripped.replace('[global]', `[global]\nkeyring = ${keyring}`) : stripped);
  return file;
}

async function connectError(promise: Promise<CephClient>): Promise<CephError> {
  const err = await promise.then(
    (client) => {
      void client.close();
      throw new Error('connect unexpectedly succeeded');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CephError);
  return err as CephError;
}


describe('connect', () => {
  test('from the conf file, reporting the cluster fsid', async () => {
    const client = await connectSandbox();
    try {
      expect(client.info.fsid).toMatch(/^[0-9a-f-]{36}$/);
      expect(client.info.monHost).toContain('127.0.0.1');
      expect((await client.listPools()).map((p) => p.name)).toContain('rbd');
    } finally {
      await client.close();
    }
  });

  test('with no files at all: mon host and key only', async () => {
    const config = sandboxConfig({ CEPH_CONF: '', CEPH_KEYRING: '', CEPH_MON_HOST: process.env.CEPH_MON_HOST, CEPH_KEY: adminKey() });
    expect(config.conf).toBeUndefined();
    expect(JSON.stringify(config)).not.toContain(adminKey());
    const client = await CephClient.connect(config);
    try {
      expect((await client.listPools()).map((p) => p.name)).toContain('rbd');
    } finally {
      await client.close();
    }
  });

  test('with an explicit client id and keyring path', async () => {
    const keyring = path.join(tmp, 'ceph.client.admin.keyring');
    fs.copyFileSync(process.env.CEPH_SANDBOX_KEYRING!, keyring);
    const conf = confWithKeyring('explicit.conf', undefined);
    const client = await connectSandbox({ CEPH_CONF: conf, CEPH_KEYRING: keyring, CEPH_ID: 'client.admin' });
    await client.close();
  });

  test('close is idempotent and later calls fail with ESHUTDOWN', async () => {
    const client = await connectSandbox();
    await Promise.all([client.close(), client.close()]);
    await client.close();
    await expect(client.listPools()).rejects.toMatchObject({ code: 'ESHUTDOWN' });
  });

  test('many native close() calls at once, with calls made between them, all settle: later closes share the first', async () => {
    const client = await connectSandbox();
    // The addon itself, under CephClient's own once-only close.
    const native = (client as unknown as { cluster: { close(): Promise<void>; listPools(): Promise<string> } }).cluster;
    const settled: Promise<unknown>[] = [];
    for (let i = 0; i < 24; i++) {
      settled.push(native.close());
      settled.push(native.listPools().catch((err: { code: string }) => err.code));
    }
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise((resolve) => (timer = setTimeout(resolve, 20_000, 'hung')));
    const outcome = await Promise.race([Promise.all(settled), hung]).finally(() => clearTimeout(timer));
    expect(outcome).not.toBe('hung');
    // Calls made after the first close() fail with ESHUTDOWN or, taken before it ran, succeed.
    for (const result of (outcome as unknown[]).filter((_, i) => i % 2 === 1)) expect(result === 'ESHUTDOWN' || String(result).startsWith('[')).toBe(true);
  });

  test('close waits for in-flight calls, which still succeed', async () => {
    const client = await connectSandbox();
    const listing = client.listImages('rbd');
    await client.close();
    expect(Array.isArray(await listing)).toBe(true);
  });
});

describe('connect diagnostics', () => {
  test('missing keyring names the files librados looked for', async () => {
    const missing = path.join(tmp, 'no-such.keyring');
    const conf = confWithKeyring('missing-keyring.conf', missing);
    const err = await connectError(connectSandbox({ CEPH_CONF: conf, CEPH_KEYRING: '' }));
    expect(err.code).toBe('ERR_CEPH_KEYRING_MISSING');
    expect(err.errno).toBe(-2);
    expect(err.message).toContain(missing);
    expect(err.message).toContain('does not exist');
    expect(err.message).toContain('CEPH_KEYRING');
    expect(err.message).toContain(conf);
  });

  test('keyring without an entry for the user', async () => {
    const err = await connectError(connectSandbox({ CEPH_ID: 'nobody' }));
    expect(err.code).toBe('ERR_CEPH_KEYRING_MISSING');
    expect(err.message).toContain('[client.nobody]');
    expect(err.message).toContain(process.env.CEPH_SANDBOX_KEYRING!);
  });

  test('keyring path that is a directory is unreadable', async () => {
    const dir = path.join(tmp, 'keyring-dir');
    fs.mkdirSync(dir);
    const err = await connectError(connectSandbox({ CEPH_KEYRING: dir }));
    expect(err.code).toBe('ERR_CEPH_KEYRING_MISSING');
    expect(err.message).toContain(`${dir} is a directory`);
  });

  test('wrong key is an auth failure naming the keyring', async () => {
    const keyring = path.join(tmp, 'wrong.keyring');
    // A syntactically valid cephx secret that is not the admin's.
    fs.writeFileSync(keyring, `[client.admin]\n\tkey = AQBzbJ1lAAAAABAAC8XqvD0bVnHNqjsr5dJ8Sw==\n`);
    const conf = confWithKeyring('wrong-key.conf', undefined);
    const err = await connectError(connectSandbox({ CEPH_CONF: conf, CEPH_KEYRING: keyring }));
    expect(err.code).toBe('ERR_CEPH_AUTH_FAILED');
    expect(['EACCES', 'EPERM']).toContain((err.cause as { code: string }).code);
    expect(err.message).toContain(keyring);
    expect(err.message).toContain('ceph auth get client.admin');
  });

  test('wrong key given without files names the env variable', async () => {
    const err = await connectError(
      connectSandbox({ CEPH_CONF: '', CEPH_KEYRING: '', CEPH_MON_HOST: process.env.CEPH_MON_HOST, CEPH_KEY: 'AQBzbJ1lAAAAABAAC8XqvD0bVnHNqjsr5dJ8Sw==' }),
    );
    expect(err.code).toBe('ERR_CEPH_AUTH_FAILED');
    expect(err.message).toContain('env CEPH_KEY');
    expect(err.message).not.toContain('AQBzbJ1l');
  });

  test('a user without mon caps is an auth failure naming its keyring', async () => {
    const id = uniqueName('nocaps');
    const keyring = path.join(tmp, `${id}.keyring`);
    ceph('auth', 'get-or-create', `client.${id}`, '-o', keyring);
    const err = await connectError(connectSandbox({ CEPH_ID: id, CEPH_KEYRING: keyring }));
    expect(err.code).toBe('ERR_CEPH_AUTH_FAILED');
    expect(err.message).toContain(`refused client.${id}: the key in ${keyring}`);
    expect(err.message).toContain('lacks mon caps');
  });

  test('a user without osd caps connects, and operations fail with EPERM', async () => {
    const id = uniqueName('monly');
    const keyring = path.join(tmp, `${id}.keyring`);
    ceph('auth', 'get-or-create', `client.${id}`, 'mon', 'profile rbd', '-o', keyring);
    const client = await connectSandbox({ CEPH_ID: id, CEPH_KEYRING: keyring });
    try {
      const err = await client.createImage({ pool: 'rbd', name: 'nope' }, 2 ** 20).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'EPERM', op: 'rbd_create4', pool: 'rbd', image: 'nope' });
      expect((err as Error).message).toContain(`Ceph user client.${id} lacks the caps for pool "rbd"; it needs mon 'profile rbd' and osd 'profile rbd pool=rbd'`);
    } finally {
      await client.close();
    }
  });

  test('malformed key is an auth failure that says so', async () => {
    const err = await connectError(
      connectSandbox({ CEPH_CONF: '', CEPH_MON_HOST: process.env.CEPH_MON_HOST, CEPH_KEY: 'not-a-key' }),
    );
    expect(err.code).toBe('ERR_CEPH_AUTH_FAILED');
    expect(err.message).toContain('The key (from env CEPH_KEY) is malformed');
    expect(err.message).not.toContain('not-a-key');
  });

  test('unreachable monitor fails within the timeout, naming the address', async () => {
    const port = await freePort(); // nobody listens there
    const started = Date.now();
    const err = await connectError(
      connectSandbox({ CEPH_CONF: '', CEPH_MON_HOST: `127.0.0.1:${port}`, CEPH_KEY: adminKey(), CEPH_TIMEOUT_SECONDS: '3' }),
    );
    const elapsed = Date.now() - started;
    expect(err.code).toBe('ERR_CEPH_MON_UNREACHABLE');
    expect(err.message).toContain(`127.0.0.1:${port}`);
    expect(err.message).toContain('3s');
    expect(elapsed).toBeGreaterThanOrEqual(2500);
    expect(elapsed).toBeLessThan(5000);
  });

  test('missing conf file is reported before librados runs', async () => {
    const missing = path.join(tmp, 'nope.conf');
    const err = await connectError(connectSandbox({ CEPH_CONF: missing }));
    expect(err.code).toBe('ERR_CEPH_CONF_UNREADABLE');
    expect(err.message).toContain(`${missing} (from env CEPH_CONF) does not exist`);
  });

  test('conf that is a directory is unreadable', async () => {
    const err = await connectError(connectSandbox({ CEPH_CONF: tmp }));
    expect(err.code).toBe('ERR_CEPH_CONF_UNREADABLE');
    expect(err.message).toContain('is a directory');
  });

  test('garbage conf is reported as unparseable', async () => {
    const conf = path.join(tmp, 'garbage.conf');
    fs.writeFileSync(conf, '[global\nmon_host = = =\n\u0000\u0001');
    const err = await connectError(connectSandbox({ CEPH_CONF: conf }));
    expect(err.code).toBe('ERR_CEPH_CONF_UNREADABLE');
    expect(err.message).toContain(conf);
  });

  test('the error stack points at the caller, not into the addon', async () => {
    const err = await connectError(connectSandbox({ CEPH_ID: 'nobody' }));
    expect(err.stack).toContain('connect.test.ts');
  });
});
