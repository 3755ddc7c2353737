/**
 * The images from `npm run images`, run as a cluster runs them: host
 * network, /etc/ceph mounted read-only, read-only root with a tmpfs /tmp,
 * non-root. Builds first (cached layers make an unchanged rebuild quick).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildImages, engineRun, inspectImage } from '../helpers/containers';
import { freePort, waitFor } from '../helpers/net';
import { call } from '../helpers/gateway';

const TAG = process.env.TAG ?? 'dev';
const FUNCTIONS = fs.readdirSync(path.resolve(__dirname, '../../functions')).sort();
const SIZE_BUDGET = 298e6;
const containers: string[] = [];
const dirs: string[] = [];

/** A directory to mount at /etc/ceph: a minimal ceph.conf and, optionally, the admin keyring. */
function cephDir(withKeyring: boolean): string {
  const conf = fs.readFileSync(process.env.CEPH_CONF!, 'utf8');
  const fsid = /^fsid\s*=\s*(\S+)/m.exec(conf)![1];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etc-ceph-'));
  dirs.push(dir);
  fs.chmodSync(dir, 0o755);
  fs.writeFileSync(path.join(dir, 'ceph.conf'), `[global]\nfsid = ${fsid}\nmon host = ${process.env.CEPH_MON_HOST}\n`, { mode: 0o644 });
  if (withKeyring) {
    // Readable by the container's user only, as a real deployment would have it.
    const keyring = path.join(dir, 'ceph.client.admin.keyring');
    fs.copyFileSync(process.env.CEPH_SANDBOX_KEYRING!, keyring);
    if (process.getuid?.() === 0) fs.chownSync(keyring, 1000, 1000);
    fs.chmodSync(keyring, process.getuid?.() === 0 ? 0o600 : 0o644);
  }
  return dir;
}

async function start(image: string, etcCeph: string, command: string[] = []): Promise<{ id: string; url: string }> {
  const port = await freePort();
  const id = await engineRun(
    'run', '--detach', '--network=host', '--read-only', '--tmpfs', '/tmp:rw,size=16m', '--user', '1000:1000',
    '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges',
    '--volume', `${etcCeph}:/etc/ceph:ro`, '--env', `port=${port}`, '--env', 'CEPH_TIMEOUT_SECONDS=5', image, ...command,
  );
  containers.push(id);
  return { id, url: `http://127.0.0.1:${port}` };
}

async function logsOf(id: string): Promise<string> {
  return engineRun('logs', id).catch((err: Error) => err.message);
}

beforeAll(() => {
  buildImages(TAG);
}, 20 * 60_000);

afterAll(async () => {
  await Promise.all(containers.map((id) => engineRun('rm', '--force', '--time', '0', id).catch(() => undefined)));
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('the base image', () => {
  test(`is under ${SIZE_BUDGET / 1e6} MB, non-root, listens on 8080 and has a HEALTHCHECK`, async () => {
    const base = await inspectImage(`rbd-functions/base:${TAG}`);
    expect(base.Size).toBeLessThan(SIZE_BUDGET);
    expect(base.Config.User).toBe('1000:1000');
    expect(Object.keys(base.Config.ExposedPorts ?? {})).toEqual(['8080/tcp']);
    expect((base.Healthcheck ?? base.Config.Healthcheck)?.Test?.join(' ')).toContain('/_/health');
  });

  test('holds no compiler, no -dev package, no TypeScript sources and no node_modules: only the bundles and the addon', async () => {
    const found = await engineRun(
      'run', '--rm', '--network=none', `rbd-functions/base:${TAG}`, 'sh', '-c',
      'for c in cc gcc g++ c++ make python3; do command -v $c; done; dpkg-query -W -f "\\${Package}\\n" | grep -E -e "-dev$" -e "^(gcc|g\\+\\+|cpp)(-[0-9]+)?$"; find /app -name "*.ts" -o -name node_modules | head -3; true',
    );
    expect(found).toBe('');
    const files = await engineRun('run', '--rm', '--network=none', `rbd-functions/base:${TAG}`, 'find', '/app', '-type', 'f');
    expect(files.split('\n').sort()).toEqual(['/app/dist/bundle/function.js', '/app/dist/bundle/gateway.js', '/app/native/build/Release/rbd_native.node']);
  });

  test('each function image adds kilobytes, and only chooses its handler', async () => {
    const base = await inspectImage(`rbd-functions/base:${TAG}`);
    for (const name of FUNCTIONS) {
      const image = await inspectImage(`rbd-functions/${name}:${TAG}`);
      expect(image.Size - base.Size).toBeLessThan(64 * 1024);
      expect(image.Config.Env).toContain(`RBD_FUNCTION=${name}`);
      expect(image.Config.User).toBe('1000:1000');
    }
  });
});

describe('the list-pools image with conf and keyring mounted read-only', () => {
  let container: { id: string; url: string };

  beforeAll(async () => {
    container = await start(`rbd-functions/list-pools:${TAG}`, cephDir(true));
    await waitFor(`${container.url}/_/ready`, 200, 30_000).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${await logsOf(container.id)}`);
    });
  }, 60_000);

  test('lists the rbd pool', async () => {
    const res = await call(`${container.url}/`);
    expect(res.status).toBe(200);
    expect(res.body.kind).toBe('PoolList');
    expect(res.body.items.map((p: { name: string }) => p.name)).toContain('rbd');
  });

  test('answers /_/health and /_/ready with 200', async () => {
    expect((await call(`${container.url}/_/health`)).status).toBe(200);
    expect((await call(`${container.url}/_/ready`)).status).toBe(200);
  });

  test('runs as uid 1000 on a read-only root, writing only its lock file in /tmp', async () => {
    const out = await engineRun('exec', container.id, 'sh', '-c', 'id -u; ls -A /tmp; touch /app/x 2>&1 || true');
    const [uid, lock, touch] = out.split('\n');
    expect(uid).toBe('1000');
    expect(lock).toBe('.lock');
    expect(touch).toMatch(/Read-only file system/);
  });

  test('exits with status 0 soon after SIGTERM', async () => {
    const started = Date.now();
    await engineRun('kill', '--signal', 'TERM', container.id);
    const status = await engineRun('wait', container.id);
    expect(status).toBe('0');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await logsOf(container.id)).toMatch(/drain/i);
  }, 30_000);
});

describe('the base image running the local gateway (as deploy/kubernetes does)', () => {
  let container: { id: string; url: string };

  beforeAll(async () => {
    container = await start(`rbd-functions/base:${TAG}`, cephDir(true), ['node', 'dist/bundle/gateway.js']);
    await waitFor(`${container.url}/_/ready`, 200, 30_000).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${await logsOf(container.id)}`);
    });
  }, 60_000);

  test('serves every function under /function/<name>', async () => {
    const pools = await call(`${container.url}/function/list-pools`);
    expect(pools.status).toBe(200);
    expect(pools.body.items.map((p: { name: string }) => p.name)).toContain('rbd');
    const images = await call(`${container.url}/function/list-images?pool=rbd`);
    expect(images.status).toBe(200);
    expect(images.body.kind).toBe('ImageList');
    expect((await call(`${container.url}/function/delete-image?pool=rbd&name=no-such-image`, { method: 'DELETE' })).status).toBe(404);
  });
});

describe('the list-pools image with ceph.conf but no keyring', () => {
  let container: { id: string; url: string };

  beforeAll(async () => {
    container = await start(`rbd-functions/list-pools:${TAG}`, cephDir(false));
    await waitFor(`${container.url}/_/health`, 200, 30_000);
  }, 60_000);

  test('answers 503 naming the missing keyring and where to mount it', async () => {
    const res = await call(`${container.url}/`);
    expect(res.status).toBe(503);
    expect(res.body.message).toMatch(/no readable keyring/);
    expect(res.body.message).toContain('/etc/ceph/ceph.client.admin.keyring');
  });

  test('stays alive and not ready', async () => {
    expect((await call(`${container.url}/_/ready`)).status).toBe(503);
    expect((await call(`${container.url}/_/health`)).status).toBe(200);
    expect(await engineRun('inspect', '--format', '{{.State.Running}}', container.id)).toBe('true');
  });
});
