/**
 * The throwaway single-node cluster of scripts/sandbox-cluster.sh, for local
 * mode when no cluster is configured.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface Sandbox {
  dir: string;
  conf: string;
  keyring: string;
  monHost: string;
}

function script(): string {
  // Same relative path from the source tree and from dist/.
  for (const rel of ['../../scripts/sandbox-cluster.sh', '../../../scripts/sandbox-cluster.sh']) {
    const candidate = path.resolve(__dirname, rel);
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error('scripts/sandbox-cluster.sh not found next to the build');
}

/** Boots a cluster in dir (new or empty; default a fresh /tmp dir); progress goes to stderr. */
export function startSandbox(dir?: string): Sandbox {
  const out = execFileSync('bash', [script(), 'up', ...(dir ? [dir] : [])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const vars = new Map(out.trim().split('\n').map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]));
  const get = (key: string) => {
    const value = vars.get(key);
    if (!value) throw new Error(`sandbox-cluster.sh up printed no ${key}`);
    return value;
  };
  return { dir: get('CEPH_SANDBOX_DIR'), conf: get('CEPH_CONF'), keyring: get('CEPH_KEYRING'), monHost: get('CEPH_MON_HOST') };
}

/** Stops the daemons that startSandbox started and removes the directory. */
export function stopSandbox(dir: string): void {
  execFileSync('bash', [script(), 'down', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
}
