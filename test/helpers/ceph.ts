/** Helpers for integration tests against the suite's sandbox cluster. */
import { execFile, execFileSync, spawn, type ChildProcess, type ExecFileSyncOptionsWithStringEncoding } from 'node:child_process';
import { once } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { promisify } from 'node:util';
import { CephClient } from '../../shared/ceph/client';
import { loadCephConfig, type CephConfig } from '../../shared/config';

const execFileAsync = promisify(execFile);

/** The sandbox's config, loaded the way production loads it (from env). */
export function sandboxConfig(overrides: NodeJS.ProcessEnv = {}): CephConfig {
  const env = { ...pick(process.env, 'CEPH_CONF'), ...overrides };
  return loadCephConfig({ env, secretsDir: '/nonexistent', cephDir: '/nonexistent' });
}

export function connectSandbox(overrides: NodeJS.ProcessEnv = {}): Promise<CephClient> {
  return CephClient.connect(sandboxConfig(overrides));
}

// The CLIs' progress notes ("pool 'x' created") stay out of the test output;
// on failure, execFileSync puts stderr in the error's message.
const QUIET: ExecFileSyncOptionsWithStringEncoding = { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] };

/** Runs the rbd CLI against the sandbox, as an oracle. */
export function rbd(...args: string[]): string {
  return execFileSync('rbd', ['-c', process.env.CEPH_CONF!, ...args], QUIET);
}

export async function rbdAsync(...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('rbd', ['-c', process.env.CEPH_CONF!, ...args], { encoding: 'utf8' });
  return stdout;
}

export function ceph(...args: string[]): string {
  return execFileSync('ceph', ['-c', process.env.CEPH_CONF!, ...args], QUIET);
}

/** `rbd info --format json` of pool/image. */
export function rbdInfo(spec: string): { size: number; features: string[]; object_size: number; order: number; id: string; stripe_unit?: number; stripe_count?: number; data_pool?: string } {
  return JSON.parse(rbd('info', '--format', 'json', spec));
}

/** The rbd CLI's JSON output (`--format json` added). */
export function rbdJson<T = unknown>(...args: string[]): T {
  return JSON.parse(rbd(...args, '--format', 'json')) as T;
}

/** SHA-256 of an image's (or snapshot's) content, through `rbd export`. */
export function rbdContentHash(spec: string): string {
  const data = execFileSync('rbd', ['-c', process.env.CEPH_CONF!, 'export', '--no-progress', spec, '-'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 2 ** 30,
  });
  return createHash('sha256').update(data).digest('hex');
}

/** Writes total bytes of data to an image with `rbd bench`, in 4 MiB writes from offset 0. */
export function rbdWrite(spec: string, total: string, pattern: 'seq' | 'rand' = 'seq'): void {
  rbd('bench', '--io-type', 'write', '--io-size', '4M', '--io-total', total, '--io-pattern', pattern, spec);
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** The admin key, read from the sandbox keyring. */
export function adminKey(): string {
  const text = fs.readFileSync(process.env.CEPH_SANDBOX_KEYRING!, 'utf8');
  const match = /key\s*=\s*(\S+)/.exec(text);
  if (!match) throw new Error(`no key in ${process.env.CEPH_SANDBOX_KEYRING}`);
  return match[1]!;
}

function pick(env: NodeJS.ProcessEnv, ...keys: string[]): NodeJS.ProcessEnv {
  return Object.fromEntries(keys.filter((k) => env[k] !== undefined).map((k) => [k, env[k]]));
}

/** Starts `rbd watch`, which holds a watch until it reads a line on stdin. */
export async function startWatch(spec: string): Promise<ChildProcess> {
  const child = spawn('rbd', ['-c', process.env.CEPH_CONF!, 'watch', spec], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('press enter to exit')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`rbd watch exited ${code}: ${out}`)));
  });
  return child;
}

/** Ends an `rbd watch` and waits for it to exit. */
export async function stopWatch(child: ChildProcess): Promise<void> {
  child.stdin!.end('\n');
  if (child.exitCode === null) await once(child, 'exit');
}
