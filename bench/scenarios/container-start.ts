/**
 * The list-pools image (npm run images) started as a cluster would (host
 * network, read-only root, tmpfs /tmp, uid 1000), against a bare Node.js HTTP
 * server in the same node:20-bookworm-slim started the same way, alternating:
 * `run` to the first 200 and idle RSS; and the images' sizes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { exec, freePort, log, median, request, rssKiB, sleep, type Scenario } from '../lib';

const TAG = process.env.TAG ?? 'dev';
const NODE_IMAGE = 'node:20-bookworm-slim';
const FLOOR_JS = 'require("http").createServer((q,s)=>s.end("ok")).listen(+process.env.PORT,"127.0.0.1")';

export const containerStart: Scenario = {
  name: 'container-start',
  async run(ctx) {
    // scripts/engine.sh picks Docker or podman (with runc and this machine's ulimits).
    const picked = await exec('bash', ['-c', 'source scripts/engine.sh && pick_engine && echo "$CONTAINERS_CONF" && echo "${ENGINE[*]}"']);
    const [containersConf, engineLine] = picked.stdout.trim().split('\n');
    const [engine, ...engineArgs] = engineLine!.split(' ');
    const env = { ...process.env, ...(containersConf && { CONTAINERS_CONF: containersConf }) };
    const run = (...argv: string[]) => exec(engine!, [...engineArgs, ...argv], { env }).then((r) => r.stdout.trim());
    const images = { floor: NODE_IMAGE, base: `rbd-functions/base:${TAG}`, 'list-pools': `rbd-functions/list-pools:${TAG}` };
    for (const image of Object.values(images)) await run('image', 'inspect', image).catch(() => Promise.reject(new Error(`${image} missing; run: npm run images`)));
    // What a node with a Ceph client has: ceph.conf and the keyring, readable by uid 1000.
    const etc = path.join(ctx.work, 'etc-ceph');
    fs.mkdirSync(etc, { mode: 0o755 });
    const cephConf = fs.readFileSync(ctx.conf, 'utf8');
    const fsid = /^\s*fsid = (.*)$/m.exec(cephConf)![1];
    const monHost = /^\s*mon host = (.*)$/m.exec(cephConf)![1];
    fs.writeFileSync(path.join(etc, 'ceph.conf'), `[global]\nfsid = ${fsid}\nmon host = ${monHost}\n`);
    fs.copyFileSync(process.env.CEPH_KEYRING!, path.join(etc, 'ceph.client.admin.keyring'));
    fs.chmodSync(path.join(etc, 'ceph.client.admin.keyring'), 0o600);
    fs.chownSync(path.join(etc, 'ceph.client.admin.keyring'), 1000, 1000);
    /** One start as production does it: time to the first 200, and RSS of its main process 3 s later. */
    const startOnce = async (system: 'floor' | 'list-pools') => {
      const port = String(await freePort());
      const started = Date.now();
      const id = await run('run', '--detach', '--network=host', '--read-only', '--tmpfs', '/tmp:rw,size=16m', '--user', '1000:1000', '--cap-drop', 'ALL',
        '--security-opt', 'no-new-privileges', '--no-healthcheck', '--volume', `${etc}:/etc/ceph:ro`, '--env', `port=${port}`, '--env', `PORT=${port}`,
        '--env', 'LOG_LEVEL=warn', images[system], ...(system === 'floor' ? ['node', '-e', FLOOR_JS] : []));
      try {
        while ((await request(`http://127.0.0.1:${port}`, { method: 'GET', path: '/' }).catch(() => ({ status: 0 }))).status !== 200) {
          if (Date.now() - started > 30_000) throw new Error(`${system}: no 200 within 30 s: ${await run('logs', id).catch(() => '')}`);
          await sleep(20);
        }
        const ms = Date.now() - started;
        await sleep(3000);
        return { ms, rssKiB: rssKiB(Number(await run('inspect', '--format', '{{.State.Pid}}', id))) };
      } finally {
        await run('rm', '--force', '--time', '0', id);
      }
    };
    log('container starts: one warm-up of each (page cache, image layers)');
    await startOnce('floor');
    await startOnce('list-pools');
    const starts = { floor: [] as { ms: number; rssKiB: number }[], 'list-pools': [] as { ms: number; rssKiB: number }[] };
    for (let r = 1; r <= (ctx.quick ? 2 : 7); r++) {
      // Alternate which goes first, so drift weighs on both.
      for (const system of r % 2 ? (['floor', 'list-pools'] as const) : (['list-pools', 'floor'] as const)) starts[system].push(await startOnce(system));
      log(`container starts: turn ${r} done`);
    }
    for (const [system, values] of Object.entries(starts)) {
      ctx.emit({ op: 'container', system, metric: 'first200Ms', value: median(values.map((v) => v.ms)), samples: values.map((v) => v.ms) });
      ctx.emit({ op: 'container', system, metric: 'idleRssKiB', value: median(values.map((v) => v.rssKiB)) });
    }
    const size = async (image: string) => Number(await run('image', 'inspect', '--format', '{{.Size}}', image));
    for (const [system, image] of [['node', NODE_IMAGE], ['base', images.base]]) ctx.emit({ op: 'image size', system: system!, metric: 'bytes', value: await size(image!) });
    for (const name of fs.readdirSync('functions').sort()) {
      ctx.emit({ op: 'image size', system: name, metric: 'bytesOverBase', value: (await size(`rbd-functions/${name}:${TAG}`)) - (await size(images.base)) });
    }
  },
};
