import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeConfig, loadCephConfig } from '../../shared/config';
import { CephError } from '../../shared/errors';

let root: string;
let secrets: string;
let cephDir: string;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'rbdfn-config-'));
  secrets = path.join(root, 'secrets');
  cephDir = path.join(root, 'etc-ceph');
  fs.mkdirSync(secrets);
  fs.mkdirSync(cephDir);
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

const write = (file: string, text = 'x') => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
};
const load = (env: NodeJS.ProcessEnv = {}) => loadCephConfig({ env, secretsDir: secrets, cephDir });

test('environment comes first, with defaults for id and timeout', () => {
  write(path.join(secrets, 'ceph.conf'));
  const config = load({ CEPH_CONF: '/env/ceph.conf', CEPH_KEYRING: '/env/keyring' });
  expect(config).toMatchObject({ conf: '/env/ceph.conf', keyring: '/env/keyring', id: 'admin', timeoutSeconds: 10 });
  expect(config.sources).toEqual({ conf: 'env CEPH_CONF', keyring: 'env CEPH_KEYRING' });
});

test('mon host and key need no files, and the key never serialises', () => {
  write(path.join(cephDir, 'ceph.conf'));
  const config = load({ CEPH_MON_HOST: 'v2:10.0.0.1:3300', CEPH_KEY: 'c2VjcmV0', CEPH_ID: 'client.rbdfn', CEPH_TIMEOUT_SECONDS: '2.5' });
  expect(config.conf).toBeUndefined();
  expect(config).toMatchObject({ monHost: 'v2:10.0.0.1:3300', key: 'c2VjcmV0', id: 'rbdfn', timeoutSeconds: 2.5 });
  expect(JSON.stringify(config)).not.toContain('c2VjcmV0');
  expect(JSON.stringify(describeConfig(config))).toContain('"key":"(set)"');
});

test('OpenFaaS secrets, flat layout', () => {
  const conf = write(path.join(secrets, 'ceph.conf'));
  const keyring = write(path.join(secrets, 'ceph.keyring'));
  write(path.join(secrets, 'ceph-id'), 'rbdfn\n');
  const config = load();
  expect(config).toMatchObject({ conf, keyring, id: 'rbdfn' });
  expect(config.sources.conf).toBe(`OpenFaaS secret ${conf}`);
});

test('OpenFaaS secrets, one folder per secret (Knative layout)', () => {
  const conf = write(path.join(secrets, 'ceph-config', 'ceph.conf'));
  const keyring = write(path.join(secrets, 'ceph-keyring', 'keyring'));
  write(path.join(secrets, 'ceph-auth', 'ceph-mon-host'), '127.0.0.1:3300\n');
  write(path.join(secrets, 'ceph-auth', 'ceph-key'), ' a2V5 \n');
  fs.symlinkSync(path.join(secrets, 'ceph-config'), path.join(secrets, '..data'));
  const config = load();
  expect(config).toMatchObject({ conf, keyring, monHost: '127.0.0.1:3300', key: 'a2V5' });
});

test('env beats secrets field by field', () => {
  write(path.join(secrets, 'ceph.conf'));
  const keyring = write(path.join(secrets, 'ceph.keyring'));
  const config = load({ CEPH_CONF: '/env/ceph.conf' });
  expect(config).toMatchObject({ conf: '/env/ceph.conf', keyring });
});

test('falls back to /etc/ceph/ceph.conf and leaves the keyring to it', () => {
  const conf = write(path.join(cephDir, 'ceph.conf'));
  const config = load();
  expect(config).toMatchObject({ conf, id: 'admin' });
  expect(config.keyring).toBeUndefined();
  expect(config.sources.conf).toBe(`default ${conf}`);
});

test('nothing anywhere is a clear error naming every place searched', () => {
  let err: unknown;
  try {
    load();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(CephError);
  expect(err).toMatchObject({ code: 'ERR_CEPH_CONFIG_MISSING' });
  expect((err as Error).message).toContain(secrets);
  expect((err as Error).message).toContain(path.join(cephDir, 'ceph.conf'));
  expect((err as Error).message).toContain('CEPH_MON_HOST with CEPH_KEY');
});

test.each([
  [{ CEPH_TIMEOUT_SECONDS: '0' }, 'CEPH_TIMEOUT_SECONDS'],
  [{ CEPH_TIMEOUT_SECONDS: 'ten' }, 'CEPH_TIMEOUT_SECONDS'],
  [{ CEPH_TIMEOUT_SECONDS: '301' }, 'CEPH_TIMEOUT_SECONDS'],
  [{ CEPH_ID: 'bad id' }, 'CEPH_ID'],
])('rejects %p', (env, name) => {
  expect(() => load({ CEPH_CONF: '/x', ...env })).toThrow(new RegExp(`for ${name} but received`));
});
