/** Container images and containers for tests, with the engine scripts/images.sh uses. */
import { execFile, execFileSync } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const root = path.resolve(__dirname, '../..');
const run = promisify(execFile);

/** The engine command and flags, as scripts/engine.sh picks them (podman with runc here). */
export const engine: string[] = execFileSync('bash', ['-c', 'source scripts/engine.sh && pick_engine && printf "%s\\n" "${ENGINE[@]}"'], {
  cwd: root,
  encoding: 'utf8',
})
  .trim()
  .split('\n');
const env = { ...process.env, CONTAINERS_CONF: process.env.CONTAINERS_CONF ?? path.join(root, 'scripts/containers.conf') };

/** Runs the engine; resolves with stdout, rejects with stderr in the message. */
export async function engineRun(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run(engine[0]!, [...engine.slice(1), ...args], { env, maxBuffer: 64 << 20 });
    return stdout.trim();
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`${engine.join(' ')} ${args.join(' ')}: ${e.stderr?.trim() || e.message}`);
  }
}

/** npm run images, for TAG; layer caching makes a rebuild of unchanged sources quick. */
export function buildImages(tag: string): void {
  execFileSync('bash', ['scripts/images.sh'], { cwd: root, env: { ...env, TAG: tag }, stdio: ['ignore', 'ignore', 'inherit'] });
}

interface Healthcheck {
  Test?: string[];
}

export interface ImageInfo {
  Size: number;
  /** podman reports it here, Docker under Config. */
  Healthcheck?: Healthcheck;
  Config: { User?: string; ExposedPorts?: Record<string, unknown>; Env?: string[]; Cmd?: string[]; Healthcheck?: Healthcheck };
}

export async function inspectImage(name: string): Promise<ImageInfo> {
  return (JSON.parse(await engineRun('image', 'inspect', name)) as ImageInfo[])[0]!;
}
