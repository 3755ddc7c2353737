/**
 * The project's own manifests, run for real: `podman kube play` plays
 * deploy/kubernetes (rendered by `kubectl kustomize`) and stack.yml's
 * functions in the OpenFaaS layout, on the images `npm run images` builds,
 * against the sandbox cluster. Every function is called through the pod's
 * port and checked against the rbd CLI; the pods are stopped with SIGTERM and
 * every process must exit 0. What the test changes in the rendered manifests,
 * and why, is in test/helpers/kube-play.ts and docs/deploy.md; the rest is
 * played as written. All traffic stays on 127.0.0.1 (the pods share the
 * host's network).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { rbdJson, uniqueName } from '../helpers/ceph';
import { buildImages, engineRun } from '../helpers/containers';
import { call } from '../helpers/gateway';
import { CEPH_USER, Played, createTokenSecret, createVolumeSecret, leastPrivilegeKeyring, nodeCephConf, nodeEtcCeph, removeSecret, renderKubernetes, renderOpenFaas, stackFunctions, type Obj } from '../helpers/kube-play';
import { freePort, waitFor } from '../helpers/net';

const TAG = process.env.TAG ?? 'dev';
const TOKEN = randomBytes(24).toString('hex');
const MiB = 2 ** 20;
const dirs: string[] = [];

beforeAll(() => {
  buildImages(TAG);
}, 20 * 60_000);

afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

async function ready(url: string, played: Played): Promise<void> {
  await waitFor(`${url}/_/ready`, 200, 60_000).catch(async (err: Error) => {
    const logs = await Promise.all((await played.containers()).filter((c) => !c.IsInfra).map((c) => played.logs(c.Names[0]!)));
    throw new Error(`${err.message}\n${logs.join('\n')}`);
  });
}

/** Within the pod's container: uid, caps, no_new_privs and seccomp of its process, and whether / and /etc/ceph are writable. */
async function inside(container: string, script: string): Promise<string> {
  return engineRun('exec', container, 'sh', '-c', script);
}

/**
 * Every function once, through `url(name)` with the token, each answer
 * checked against the rbd CLI on the sandbox (as admin).
 */
async function everyFunction(url: (name: string) => string): Promise<string[]> {
  const called: string[] = [];
  const fn = async (name: string, body: Obj, status = 200) => {
    const res = await call(url(name), { body, headers: { Authorization: `Bearer ${TOKEN}` } });
    expect({ name, status: res.status, body: res.body }).toMatchObject({ name, status });
    called.push(name);
    return res.body;
  };
  const pool = 'rbd';
  const name = uniqueName('played');
  const clone = `${name}-clone`;
  const info = (image: string) => rbdJson<{ size: number; parent?: { image: string; snapshot: string } }>('info', `${pool}/${image}`);
  const snaps = (image: string) => rbdJson<{ name: string }[]>('snap', 'ls', `${pool}/${image}`).map((s) => s.name);
  const trash = () => rbdJson<{ id: string; name: string }[]>('trash', 'ls', pool);
  const images = () => rbdJson<string[]>('ls', pool).sort();

  // RBD_POOLS=rbd in both layouts: only that pool, which `ceph osd pool ls` has.
  const pools = await fn('list-pools', {});
  expect(pools.items.map((p: Obj) => p.name)).toEqual([pool]);

  await fn('create-image', { pool, name, size: '64Mi' }, 201);
  expect(info(name).size).toBe(64 * MiB);
  const listed = await fn('list-images', { pool });
  expect(listed.items.map((i: Obj) => i.name).sort()).toEqual(images());
  const got = await fn('get-image', { pool, name });
  expect(got.size).toBe(info(name).size);

  await fn('resize-image', { pool, name, size: '128Mi' });
  expect(info(name).size).toBe(128 * MiB);
  await fn('create-snapshot', { pool, image: name, snapshot: 'before', protect: true }, 201);
  expect(snaps(name)).toEqual(['before']);
  const snapshots = await fn('list-snapshots', { pool, image: name });
  expect(snapshots.items.map((s: Obj) => s.name)).toEqual(snaps(name));
  // The snapshot was taken at 128Mi: grow past it, then roll back to it.
  await fn('resize-image', { pool, name, size: '192Mi' });
  await fn('rollback-image', { pool, name, snapshot: 'before' });
  expect(info(name).size).toBe(128 * MiB);

  await fn('clone-image', { pool, image: name, snapshot: 'before', name: clone }, 201);
  expect(info(clone).parent).toMatchObject({ image: name, snapshot: 'before' });
  await fn('flatten-image', { pool, name: clone });
  expect(info(clone).parent).toBeUndefined();
  await fn('delete-snapshot', { pool, image: name, snapshot: 'before', unprotect: true });
  expect(snaps(name)).toEqual([]);

  await fn('delete-image', { pool, name: clone, trash: true });
  expect(trash().map((t) => t.name)).toEqual([clone]);
  const trashed = await fn('list-trash', { pool });
  expect(trashed.items.map((t: Obj) => t.id)).toEqual(trash().map((t) => t.id));
  await fn('restore-image', { pool, id: trash()[0]!.id });
  expect(trash()).toEqual([]);
  expect(images()).toContain(clone);
  await fn('delete-image', { pool, name: clone, trash: true });
  await fn('purge-trash', { pool, expiredOnly: false });
  expect(trash()).toEqual([]);
  await fn('delete-image', { pool, name });
  expect(images()).not.toContain(name);
  expect(images()).not.toContain(clone);
  return called;
}

/** SIGTERM with the grace period, then `podman kube down`: every process (infra included) must have exited 0, each function after draining. */
async function stopCleanly(played: Played, graceSeconds: number): Promise<void> {
  const stopped = await played.stop(graceSeconds);
  expect(stopped.length).toBeGreaterThan(0);
  const logs = new Map(await Promise.all(stopped.filter((c) => !c.IsInfra).map(async (c) => [c.Names[0]!, await played.logs(c.Names[0]!)] as const)));
  await played.down();
  expect(stopped.map((c) => ({ name: c.Names[0], state: c.State, exitCode: c.ExitCode }))).toEqual(
    stopped.map((c) => ({ name: c.Names[0], state: 'exited', exitCode: 0 })),
  );
  for (const [name, log] of logs) expect({ name, drained: /"msg":"drained"/.test(log) }).toEqual({ name, drained: true });
  expect(await played.containers()).toEqual([]);
}

describe('deploy/kubernetes played by podman', () => {
  let etcCeph: string;
  let port: number;
  let rendered: ReturnType<typeof renderKubernetes>;
  let played: Played;
  let container: string;
  const url = () => `http://127.0.0.1:${port}`;

  beforeAll(async () => {
    etcCeph = nodeEtcCeph();
    dirs.push(etcCeph);
    port = await freePort();
    rendered = renderKubernetes({ tag: TAG, port, etcCeph });
    await createTokenSecret('rbd-api-token', 'rbd-api-token', TOKEN);
    played = await Played.play(rendered.docs);
    await ready(url(), played);
    container = (await played.containers()).find((c) => !c.IsInfra)!.Names[0]!;
  }, 120_000);

  afterAll(async () => {
    await played?.down();
    await removeSecret('rbd-api-token');
  });

  test('runs as written: non-root, read-only root, read-only /etc/ceph from the node, no capabilities, the resources', async () => {
    const spec = rendered.deployment.spec.template.spec;
    const manifest = spec.containers[0];
    const [uid, gid, caps, noNewPrivs, seccomp, root, etc, tmp, conf] = (
      await inside(
        container,
        'id -u; id -g; grep ^CapEff /proc/1/status; grep ^NoNewPrivs /proc/1/status; grep ^Seccomp: /proc/1/status; ' +
          'touch /app/x 2>&1 || true; touch /etc/ceph/x 2>&1 || true; ls -A /tmp; ls /etc/ceph | tr "\\n" " "',
      )
    ).split('\n');
    expect([uid, gid]).toEqual([String(spec.securityContext.runAsUser), String(spec.securityContext.runAsGroup)]);
    expect(caps).toMatch(/^CapEff:\s+0+$/);
    expect(noNewPrivs).toMatch(/^NoNewPrivs:\s+1$/);
    expect(seccomp).toMatch(/^Seccomp:\s+2$/);
    expect(root).toMatch(/Read-only file system/);
    expect(etc).toMatch(/Read-only file system/);
    expect(tmp).toBe('.lock');
    expect(conf!.trim().split(' ').sort()).toEqual(fs.readdirSync(etcCeph).sort());

    const [inspected] = JSON.parse(await engineRun('container', 'inspect', container)) as Obj[];
    expect(inspected!.HostConfig.ReadonlyRootfs).toBe(manifest.securityContext.readOnlyRootFilesystem);
    expect(inspected!.HostConfig.Memory).toBe(512 * MiB);
    expect(manifest.resources.limits.memory).toBe('512Mi');
    expect(inspected!.HostConfig.CpuQuota / inspected!.HostConfig.CpuPeriod).toBe(Number(manifest.resources.limits.cpu));
    expect(inspected!.HostConfig.NetworkMode).toBe('host');
    expect(inspected!.Config.Image).toBe(`localhost/rbd-functions/base:${TAG}`);
  });

  test("the probes' paths and ports answer 200; podman runs the liveness probe as the container's healthcheck", async () => {
    const manifest = rendered.deployment.spec.template.spec.containers[0];
    for (const probe of [manifest.readinessProbe, manifest.livenessProbe]) {
      expect((await fetch(`http://127.0.0.1:${probe.httpGet.port}${probe.httpGet.path}`)).status).toBe(200);
    }
    const [inspected] = JSON.parse(await engineRun('container', 'inspect', container)) as Obj[];
    expect(inspected!.Config.Healthcheck.Test.join(' ')).toContain(`:${port}${manifest.livenessProbe.httpGet.path}`);
  });

  test('the token from the Secret: 401 without it, 200 with it', async () => {
    const none = await call(`${url()}/function/list-pools`);
    expect(none.status).toBe(401);
    expect(none.body.reason).toBe('Unauthorized');
    expect((await call(`${url()}/function/list-pools`, { headers: { Authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await call(`${url()}/function/list-pools`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
  });

  test(`every function, as the least-privilege user client.${CEPH_USER}, agrees with the rbd CLI`, async () => {
    const called = await everyFunction((name) => `${url()}/function/${name}`);
    expect([...new Set(called)].sort()).toEqual(stackFunctions().map(([name]) => name).sort());
  });

  test('stopped with SIGTERM and taken down, every process exits 0', async () => {
    await stopCleanly(played, rendered.deployment.spec.template.spec.terminationGracePeriodSeconds);
  });
});

describe('deploy/kubernetes fails closed without its token', () => {
  let etcCeph: string;

  beforeAll(() => {
    etcCeph = nodeEtcCeph();
    dirs.push(etcCeph);
  });

  test('without the Secret, podman refuses to start the pod (as the kubelet does)', async () => {
    await removeSecret('rbd-api-token');
    const { docs } = renderKubernetes({ tag: TAG, port: await freePort(), etcCeph });
    await expect(Played.play(docs)).rejects.toThrow(/no secret with name or id "rbd-api-token"/);
    expect(JSON.parse(await engineRun('ps', '--all', '--filter', 'pod=rbd-functions-pod-0', '--format', 'json'))).toEqual([]);
  });

  test('with an empty token, it serves nothing and says why: not ready, calls 503, the reason in the log', async () => {
    const port = await freePort();
    const { docs, deployment } = renderKubernetes({ tag: TAG, port, etcCeph });
    await createTokenSecret('rbd-api-token', 'rbd-api-token', '');
    const played = await Played.play(docs);
    try {
      await waitFor(`http://127.0.0.1:${port}/_/health`, 200, 60_000);
      for (const path of ['/_/ready', '/function/list-pools']) {
        const res = await call(`http://127.0.0.1:${port}${path}`);
        expect(res.status).toBe(503);
        expect(res.body.message).toMatch(/RBD_AUTH=token but no bearer token arrived/);
      }
      const container = (await played.containers()).find((c) => !c.IsInfra)!.Names[0]!;
      expect(await played.logs(container)).toMatch(/refusing to serve/);
      await stopCleanly(played, deployment.spec.template.spec.terminationGracePeriodSeconds);
    } finally {
      await played.down();
      await removeSecret('rbd-api-token');
    }
  }, 120_000);
});

describe("stack.yml's functions in the OpenFaaS layout (Ceph config only under /var/openfaas/secrets/)", () => {
  const functions = stackFunctions().map(([name]) => name);
  const ports = new Map<string, number>();
  let played: Played;
  const url = (name: string) => `http://127.0.0.1:${ports.get(name)}`;
  // faas-cli's secrets, named as docs/deploy.md creates them; ceph-id for the least-privilege user.
  const secrets = () => ({ 'ceph.conf': nodeCephConf(), 'ceph.keyring': leastPrivilegeKeyring(), 'ceph-id': CEPH_USER, 'rbd-api-token': TOKEN });

  beforeAll(async () => {
    for (const name of functions) ports.set(name, await freePort());
    await createVolumeSecret('openfaas-secrets', secrets());
    played = await Played.play(renderOpenFaas({ tag: TAG, ports }));
    for (const name of functions) await ready(url(name), played);
  }, 180_000);

  afterAll(async () => {
    await played?.down();
    await removeSecret('openfaas-secrets');
  });

  test('no hostPath: each container sees the Ceph config only as OpenFaaS secret files, runs non-root on a read-only root', async () => {
    const containers = (await played.containers()).filter((c) => !c.IsInfra);
    expect(containers).toHaveLength(functions.length);
    expect(JSON.stringify(renderOpenFaas({ tag: TAG, ports }))).not.toContain('hostPath');
    const [uid, etc, files, root] = (
      await inside(containers[0]!.Names[0]!, 'id -u; echo "[$(ls -A /etc/ceph 2>/dev/null)]"; ls /var/openfaas/secrets | tr "\\n" " "; echo; touch /app/x 2>&1 || true')
    ).split('\n');
    expect(uid).toBe('1000');
    expect(etc).toBe('[]');
    expect(files!.trim().split(' ').sort()).toEqual(Object.keys(secrets()).sort());
    expect(root).toMatch(/Read-only file system/);
  });

  test('the token from the rbd-api-token secret file: 401 without it', async () => {
    for (const name of functions) expect({ name, status: (await call(url(name))).status }).toEqual({ name, status: 401 });
  });

  test('every function, each in its own pod, agrees with the rbd CLI', async () => {
    const called = await everyFunction(url);
    expect([...new Set(called)].sort()).toEqual([...functions].sort());
  });

  test('stopped with SIGTERM and taken down, every process exits 0', async () => {
    await stopCleanly(played, 30);
  }, 120_000);

  test('without the rbd-api-token secret (RBD_AUTH: token from stack.yml), a function serves nothing and says why', async () => {
    const withoutToken = Object.fromEntries(Object.entries(secrets()).filter(([key]) => key !== 'rbd-api-token'));
    const one = new Map([['list-pools', await freePort()]]);
    await createVolumeSecret('openfaas-secrets', withoutToken);
    const alone = await Played.play(renderOpenFaas({ tag: TAG, ports: one }));
    try {
      const base = `http://127.0.0.1:${one.get('list-pools')}`;
      await waitFor(`${base}/_/health`, 200, 60_000);
      for (const path of ['/_/ready', '/']) {
        const res = await call(`${base}${path}`);
        expect(res.status).toBe(503);
        expect(res.body.message).toMatch(/RBD_AUTH=token but no bearer token arrived/);
      }
    } finally {
      await alone.down();
    }
  }, 120_000);
});
