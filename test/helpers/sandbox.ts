/** Boots and tears down throwaway clusters with test/sandbox/cluster.sh. */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const SCRIPT = path.resolve(__dirname, '../sandbox/cluster.sh');

export interface Sandbox {
  CEPH_SANDBOX_DIR: string;
  CEPH_CONF: string;
  CEPH_KEYRING: string;
  CEPH_MON_HOST: string;
}

export function sandboxUp(): Sandbox {
  const out = execFileSync('bash', [SCRIPT, 'up'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const vars = Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]),
  );
  for (const key of ['CEPH_SANDBOX_DIR', 'CEPH_CONF', 'CEPH_KEYRING', 'CEPH_MON_HOST']) {
    if (!vars[key]) throw new Error(`cluster.sh up printed no ${key}: ${out}`);
  }
  return vars as unknown as Sandbox;
}

export function sandboxDown(dir: string): void {
  execFileSync('bash', [SCRIPT, 'down', dir], { stdio: 'inherit' });
}
