/**
 * Turns librados's connect failures into errors that name the file at fault
 * and the fix. librados says "No such file or directory" for a missing
 * keyring and "Permission denied" for a wrong key; users deserve better.
 *
 * Note that librados itself reads the CEPH_KEYRING environment variable, so
 * it must agree with the config (loadCephConfig reads it first for that reason).
 */
import fs from 'node:fs';
import type { CephConfig } from '../config';
import { CephError } from '../errors';
import type { NativeError } from './native';

type FileState = 'missing' | 'directory' | 'unreadable' | 'readable';

function fileState(file: string): FileState {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (!stat) return 'missing';
  if (stat.isDirectory()) return 'directory';
  try {
    fs.accessSync(file, fs.constants.R_OK);
    fs.closeSync(fs.openSync(file, 'r')); // access() is not enough under some LSMs
    return 'readable';
  } catch {
    return 'unreadable';
  }
}

const describeState: Record<Exclude<FileState, 'readable'>, string> = {
  missing: 'does not exist',
  directory: 'is a directory, not a file',
  unreadable: `is not readable by uid ${process.getuid?.() ?? '?'}`,
};

function source(config: CephConfig, field: keyof CephConfig['sources']): string {
  const from = config.sources[field];
  return from ? ` (from ${from})` : '';
}

/** Checks the conf file before librados does, to say precisely what is wrong. */
export function checkConfFile(config: CephConfig): CephError | undefined {
  if (config.conf === undefined) return undefined;
  const state = fileState(config.conf);
  if (state === 'readable') return undefined;
  return new CephError(
    'ERR_CEPH_CONF_UNREADABLE',
    `Ceph config file ${config.conf}${source(config, 'conf')} ${describeState[state]}. ` +
      'Mount ceph.conf there (read-only is fine), point CEPH_CONF at the right file, ' +
      'or set CEPH_MON_HOST and CEPH_KEY to connect without files.',
    { op: 'rados_conf_read_file', details: { conf: config.conf, state } },
  );
}

/** Keyring paths as librados lists them: separated by commas, semicolons or spaces. */
export function splitKeyringList(list: string): string[] {
  return list.split(/[,;\s]+/).filter(Boolean);
}

export function diagnoseConnectError(err: NativeError, config: CephConfig): CephError {
  const user = `client.${config.id}`;
  const monHost = err.monHost || config.monHost || '';
  const keyringList = splitKeyringList(err.keyring ?? config.keyring ?? '');
  const confNote = config.conf ? ` Config: ${config.conf}${source(config, 'conf')}.` : '';
  const base = {
    errno: err.errno,
    op: err.op,
    cause: err,
    details: { user, conf: config.conf, keyring: keyringList, monHost, sources: config.sources },
  };

  if (err.op === 'rados_conf_read_file') {
    return (
      checkConfFile(config) ??
      new CephError(
        'ERR_CEPH_CONF_UNREADABLE',
        `librados could not parse ${config.conf}${source(config, 'conf')}: ${err.message}. ` +
          'Check the file is a valid ceph.conf (INI sections such as [global] with mon_host).',
        base,
      )
    );
  }
  if (err.op !== 'rados_connect') {
    return new CephError('ERR_CEPH_CONNECT_FAILED', `Connecting to Ceph failed: ${err.message}.${confNote}`, base);
  }
  if (!monHost) {
    return new CephError(
      'ERR_CEPH_CONFIG_MISSING',
      `No monitor addresses are configured for ${user}.${confNote} Set mon_host in ceph.conf or CEPH_MON_HOST.`,
      base,
    );
  }

  if (err.code === 'ETIMEDOUT') {
    return new CephError(
      'ERR_CEPH_MON_UNREACHABLE',
      `No Ceph monitor answered within ${config.timeoutSeconds}s at ${monHost}. ` +
        'Check that the monitors are running and reachable from this node (routes, firewalls, ' +
        `ports 3300/6789), and that mon_host is right.${confNote}`,
      base,
    );
  }

  // Without a key of its own the client fails with ENOENT (no file), EISDIR,
  // EACCES (file present but no entry for the user) and more: check the files.
  const keyrings = config.key === undefined ? keyringStates(keyringList, user) : [];
  if (config.key === undefined && !keyrings.some((k) => k.hasEntry)) {
    const found = keyrings
      .map(({ file, state }) => (state === 'readable' ? `${file} has no [${user}] entry` : `${file} ${describeState[state]}`))
      .join('; ');
    const fixPerms = keyrings.some((k) => k.state === 'unreadable' || k.state === 'directory')
      ? " Fix the file's permissions or path (the process must be able to read it),"
      : '';
    return new CephError(
      'ERR_CEPH_KEYRING_MISSING',
      `Cannot authenticate as ${user}: no readable keyring holds its key (${found || 'no keyring path configured'}).` +
        `${fixPerms} Mount the keyring for ${user} (for example at /etc/ceph/ceph.${user}.keyring), ` +
        `set CEPH_KEYRING to its path, or pass the key itself in CEPH_KEY.${confNote}`,
      base,
    );
  }

  if (err.code === 'EIO' || err.code === 'EINVAL') {
    // librados's answer to a key that is not a valid base64 cephx secret.
    const keyFrom =
      config.key !== undefined
        ? `The key${source(config, 'key')}`
        : `The key for ${user} in ${keyrings.filter((k) => k.hasEntry).map((k) => k.file).join(', ')}`;
    return new CephError(
      'ERR_CEPH_AUTH_FAILED',
      `${keyFrom} is malformed: librados could not decode it (${err.code}). A cephx key is 40 base64 ` +
        `characters, as printed by "ceph auth get-key ${user}".${confNote}`,
      base,
    );
  }

  if (err.code === 'EACCES' || err.code === 'EPERM') {
    const keyFrom =
      config.key !== undefined
        ? `the key${source(config, 'key')}`
        : `the key in ${keyrings.filter((k) => k.hasEntry).map((k) => k.file).join(', ')}`;
    return new CephError(
      'ERR_CEPH_AUTH_FAILED',
      `The monitors at ${monHost} refused ${user}: ${keyFrom} is wrong, or the user lacks mon caps. ` +
        `Compare it with "ceph auth get ${user}" on an admin node; the user needs at least ` +
        `mon 'profile rbd' and osd 'profile rbd'.${confNote}`,
      base,
    );
  }
  return new CephError('ERR_CEPH_CONNECT_FAILED', `Connecting to Ceph as ${user} at ${monHost} failed: ${err.message}.${confNote}`, base);
}

function keyringStates(files: string[], user: string): { file: string; state: FileState; hasEntry: boolean }[] {
  return files.map((file) => {
    const state = fileState(file);
    return { file, state, hasEntry: state === 'readable' && hasEntry(file, user) };
  });
}

function hasEntry(file: string, user: string): boolean {
  try {
    return fs.readFileSync(file, 'utf8').includes(`[${user}]`);
  } catch {
    return false;
  }
}
