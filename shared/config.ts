/**
 * Where the Ceph connection settings come from, field by field, in order:
 *  1. environment: CEPH_CONF, CEPH_ID, CEPH_KEYRING, CEPH_MON_HOST, CEPH_KEY, CEPH_TIMEOUT_SECONDS;
 *  2. OpenFaaS secrets, as /var/openfaas/secrets/<key> or /var/openfaas/secrets/<secret>/<key>;
 *  3. /etc/ceph/ceph.conf, whose keyring (or librados's default keyring paths) applies.
 * Each field records its source, so diagnostics can say which file came from where.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CephError, invalidParameterError } from './errors';

export const DEFAULT_SECRETS_DIR = '/var/openfaas/secrets';
export const DEFAULT_CEPH_DIR = '/etc/ceph';
export const DEFAULT_TIMEOUT_SECONDS = 10;
export const DEFAULT_CLIENT_ID = 'admin';

/** Secret keys (file names) read from OpenFaaS secrets. */
export const SECRET_KEYS = {
  conf: ['ceph.conf'],
  keyring: ['ceph.keyring', 'keyring'],
  id: ['ceph-id'],
  monHost: ['ceph-mon-host'],
  key: ['ceph-key'],
} as const;

export type ConfigField = 'conf' | 'id' | 'keyring' | 'monHost' | 'key' | 'timeoutSeconds';

export interface CephConfig {
  /** ceph.conf path; absent when monHost and key are given without files. */
  conf?: string;
  /** Client id without the "client." prefix. Default "admin". */
  id: string;
  /** Keyring path; absent leaves the conf's keyring or librados's defaults. */
  keyring?: string;
  /** Monitor addresses, as in mon_host. */
  monHost?: string;
  /** The base64 secret. Not enumerable, so it never reaches a log or JSON. */
  key?: string;
  /** One timeout for mon ops, OSD ops and the initial connect. Default 10 s, range (0, 300]. */
  timeoutSeconds: number;
  /** Where each set field came from, e.g. "env CEPH_CONF". */
  sources: Partial<Record<ConfigField, string>>;
}

export interface ConfigSources {
  env?: NodeJS.ProcessEnv;
  /** Default /var/openfaas/secrets, or env OPENFAAS_SECRETS_DIR. */
  secretsDir?: string;
  /** Default /etc/ceph. */
  cephDir?: string;
}

export function loadCephConfig(sources: ConfigSources = {}): CephConfig {
  const env = sources.env ?? process.env;
  const secretsDir = sources.secretsDir ?? env.OPENFAAS_SECRETS_DIR ?? DEFAULT_SECRETS_DIR;
  const cephDir = sources.cephDir ?? DEFAULT_CEPH_DIR;
  const secrets = findSecrets(secretsDir);
  const config: CephConfig = { id: DEFAULT_CLIENT_ID, timeoutSeconds: DEFAULT_TIMEOUT_SECONDS, sources: {} };

  const fromEnv = (field: ConfigField, name: string): string | undefined => {
    const value = env[name]?.trim();
    if (!value) return undefined;
    config.sources[field] = `env ${name}`;
    return value;
  };
  // Secrets holding a path (conf, keyring) are used as files; the others by content.
  const secretPath = (field: ConfigField): string | undefined => {
    const file = secrets[field as keyof typeof SECRET_KEYS];
    if (file) config.sources[field] = `OpenFaaS secret ${file}`;
    return file;
  };
  const secretValue = (field: ConfigField): string | undefined => {
    const file = secretPath(field);
    return file === undefined ? undefined : fs.readFileSync(file, 'utf8').trim();
  };

  config.conf = fromEnv('conf', 'CEPH_CONF') ?? secretPath('conf');
  config.keyring = fromEnv('keyring', 'CEPH_KEYRING') ?? secretPath('keyring');
  config.monHost = fromEnv('monHost', 'CEPH_MON_HOST') ?? secretValue('monHost');
  const key = fromEnv('key', 'CEPH_KEY') ?? secretValue('key');
  if (key !== undefined) Object.defineProperty(config, 'key', { value: key, enumerable: false });
  const id = fromEnv('id', 'CEPH_ID') ?? secretValue('id');
  if (id !== undefined) config.id = validateClientId(id);
  const timeout = fromEnv('timeoutSeconds', 'CEPH_TIMEOUT_SECONDS');
  if (timeout !== undefined) config.timeoutSeconds = validateTimeout(timeout);

  // Files are optional only when the monitors and key come from elsewhere.
  if (config.conf === undefined && config.monHost === undefined) {
    const defaultConf = path.join(cephDir, 'ceph.conf');
    if (fs.existsSync(defaultConf)) {
      config.conf = defaultConf;
      config.sources.conf = `default ${defaultConf}`;
    } else {
      throw new CephError(
        'ERR_CEPH_CONFIG_MISSING',
        `No Ceph configuration found: CEPH_CONF and CEPH_MON_HOST are unset, no "ceph.conf" or "ceph-mon-host" ` +
          `OpenFaaS secret is in ${secretsDir}, and ${defaultConf} does not exist. ` +
          `Set CEPH_CONF (with CEPH_KEYRING), or CEPH_MON_HOST with CEPH_KEY, or mount ceph.conf and the keyring in ${cephDir}.`,
        { details: { searched: ['env CEPH_CONF', 'env CEPH_MON_HOST', secretsDir, defaultConf] } },
      );
    }
  }
  return config;
}

/**
 * An OpenFaaS secret's content, trimmed, from either layout; undefined if absent.
 * Default dir: env OPENFAAS_SECRETS_DIR or /var/openfaas/secrets.
 */
export function readSecret(name: string, dir = process.env.OPENFAAS_SECRETS_DIR ?? DEFAULT_SECRETS_DIR): string | undefined {
  const file = [dir, ...subfolders(dir)].map((folder) => path.join(folder, name)).find(isFile);
  return file === undefined ? undefined : fs.readFileSync(file, 'utf8').trim();
}

/** A secret key's file, in the flat layout or one folder down (per-secret mounts). */
function findSecrets(dir: string): Partial<Record<keyof typeof SECRET_KEYS, string>> {
  const found: Partial<Record<keyof typeof SECRET_KEYS, string>> = {};
  const folders = [dir, ...subfolders(dir)];
  for (const [field, names] of Object.entries(SECRET_KEYS) as [keyof typeof SECRET_KEYS, readonly string[]][]) {
    for (const folder of folders) {
      const hit = names.map((name) => path.join(folder, name)).find(isFile);
      if (hit) {
        found[field] = hit;
        break;
      }
    }
  }
  return found;
}

function subfolders(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      // Kubernetes secret volumes hold "..data" symlinks; skip those.
      .filter((entry) => !entry.name.startsWith('.') && (entry.isDirectory() || isDir(path.join(dir, entry.name))))
      .map((entry) => path.join(dir, entry.name))
      .sort();
  } catch {
    return [];
  }
}

const isFile = (p: string) => fs.statSync(p, { throwIfNoEntry: false })?.isFile() ?? false;
const isDir = (p: string) => fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;

function validateClientId(raw: string): string {
  const id = raw.startsWith('client.') ? raw.slice('client.'.length) : raw;
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(id)) {
    throw invalidParameterError('CEPH_ID', 'a client id such as "admin" or "client.rbdfn"', raw);
  }
  return id;
}

function validateTimeout(raw: string): number {
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 300) {
    throw invalidParameterError('CEPH_TIMEOUT_SECONDS', 'a number of seconds above 0 and at most 300', raw);
  }
  return seconds;
}

/** The config as safe to log: paths and sources, never the key. */
export function describeConfig(config: CephConfig): Record<string, unknown> {
  return { ...config, key: config.key === undefined ? undefined : '(set)' };
}
