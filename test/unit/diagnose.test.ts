/** Diagnosis logic with fake librados errors; the integration tests use real ones. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkConfFile, diagnoseConnectError, splitKeyringList } from '../../shared/ceph/diagnose';
import type { NativeError } from '../../shared/ceph/native';
import type { CephConfig } from '../../shared/config';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rbdfn-diag-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function nativeError(code: string, errno: number, extra: Partial<NativeError> = {}): NativeError {
  return Object.assign(new Error(`rados_connect: ${code}`), { code, errno, op: 'rados_connect', namespace: '', ...extra });
}

const config = (over: Partial<CephConfig> = {}): CephConfig => ({
  id: 'admin',
  timeoutSeconds: 10,
  conf: '/etc/ceph/ceph.conf',
  sources: { conf: 'default /etc/ceph/ceph.conf' },
  ...over,
});

test('splits librados keyring lists', () => {
  expect(splitKeyringList('/a,/b; /c /d')).toEqual(['/a', '/b', '/c', '/d']);
  expect(splitKeyringList('')).toEqual([]);
});

test('ENOENT with no keyring anywhere names every path', () => {
  const err = diagnoseConnectError(
    nativeError('ENOENT', -2, { keyring: `${dir}/a.keyring,${dir}/b.keyring`, monHost: '127.0.0.1:3300' }),
    config(),
  );
  expect(err.code).toBe('ERR_CEPH_KEYRING_MISSING');
  expect(err.message).toContain(`${dir}/a.keyring does not exist; ${dir}/b.keyring does not exist`);
  expect(err.message).toContain('Config: /etc/ceph/ceph.conf (from default /etc/ceph/ceph.conf)');
});

test('ENOENT when a keyring holds the user is not blamed on the keyring', () => {
  const keyring = path.join(dir, 'k');
  fs.writeFileSync(keyring, '[client.admin]\n\tkey = x\n');
  const err = diagnoseConnectError(nativeError('ENOENT', -2, { keyring, monHost: 'm' }), config());
  expect(err.code).toBe('ERR_CEPH_CONNECT_FAILED');
});

test('no monitors configured', () => {
  const err = diagnoseConnectError(nativeError('ENOENT', -2, { keyring: '', monHost: '' }), config());
  expect(err.code).toBe('ERR_CEPH_CONFIG_MISSING');
  expect(err.message).toContain('Set mon_host');
});

test('EACCES and EPERM are auth failures when the keyring has the key; ETIMEDOUT names the monitors', () => {
  const keyring = path.join(dir, 'k');
  fs.writeFileSync(keyring, '[client.admin]\n\tkey = x\n');
  for (const [code, errno] of [['EACCES', -13], ['EPERM', -1]] as const) {
    const err = diagnoseConnectError(nativeError(code, errno, { keyring, monHost: 'v2:10.1.1.1:3300' }), config());
    expect(err).toMatchObject({ code: 'ERR_CEPH_AUTH_FAILED', errno, op: 'rados_connect' });
    expect(err.message).toContain('v2:10.1.1.1:3300');
    expect(err.message).toContain(`the key in ${keyring} is wrong`);
  }
  const noEntry = diagnoseConnectError(nativeError('EACCES', -13, { keyring, monHost: 'm' }), config({ id: 'other' }));
  expect(noEntry.code).toBe('ERR_CEPH_KEYRING_MISSING');
  expect(noEntry.message).toContain(`${keyring} has no [client.other] entry`);
  const err = diagnoseConnectError(nativeError('ETIMEDOUT', -110, { monHost: '10.9.9.9:6789' }), config({ timeoutSeconds: 3 }));
  expect(err.code).toBe('ERR_CEPH_MON_UNREACHABLE');
  expect(err.message).toMatch(/within 3s at 10\.9\.9\.9:6789/);
});

test('conf problems are found before librados', () => {
  expect(checkConfFile(config({ conf: undefined }))).toBeUndefined();
  const file = path.join(dir, 'ceph.conf');
  fs.writeFileSync(file, '[global]\n');
  expect(checkConfFile(config({ conf: file }))).toBeUndefined();
  expect(checkConfFile(config({ conf: path.join(dir, 'missing') }))?.message).toContain('does not exist');
  expect(checkConfFile(config({ conf: dir }))?.message).toContain('is a directory');
});
