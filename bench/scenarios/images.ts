/**
 * The image lifecycle: create-image and delete-image (latency at 1 in rounds
 * of every system, throughput at 32), then resize, snapshots, clone, flatten,
 * rollback and the trash, latency only, each sample on an image of its own.
 */
import { eventLoopP99Ms, exec, fill, floor, idleFloorEnv, latency, log, ok2xx, request, service, sleep, summary, throughput, type Context, type Req, type Scenario, type Throughput, type Way } from '../lib';
import { DASHBOARD_CONNECTIONS, LATENCY_ONLY, sizes } from './listings';

const image = (prefix: string, i: number) => `${prefix}-${i}`;

export const createImage: Scenario = {
  name: 'create-image',
  dashboard: true,
  async run(ctx) {
    const N = sizes(ctx.quick);
    const pool = 'rbd';
    const m = ctx.quick ? 32 : 256;
    const [cr, de, expressCeph] = await Promise.all(['create-image', 'delete-image', 'express-ceph'].map(service));
    const fnCreate = (prefix: string) => (i: number) => ({ method: 'POST', path: '/', body: JSON.stringify({ pool, name: image(prefix, i), size: '1Gi' }) });
    const fnDelete = (prefix: string) => (i: number) => ({ method: 'DELETE', path: `/?pool=${pool}&name=${image(prefix, i)}` });
    const exCreate = (prefix: string) => (i: number) => ({ method: 'POST', path: '/create', body: JSON.stringify({ pool, name: image(prefix, i), size: 2 ** 30 }) });
    // The floor makes create-image's library calls: rbd_create4, then the two
    // reads that describe the new image for the answer; floor-bare is
    // rbd_create4 alone, to show what the read-back costs.
    const create: Record<string, (prefix: string) => Way> = {
      floor: (prefix) => ({ floor: ['create_describe', pool, prefix] }),
      'floor-bare': (prefix) => ({ floor: ['create', pool, prefix] }),
      'floor-idle': (prefix) => ({ floor: ['create_describe', pool, prefix], env: idle }),
      addon: (prefix) => ({ call: (i) => ctx.addon.createImageDescribed({ pool, name: image(prefix, i) }, 2 ** 30) }),
      'express-ceph': (prefix) => ({ base: expressCeph!.base, req: exCreate(prefix), ok: (s) => s === 201 }),
      project: (prefix) => ({ base: cr!.base, req: fnCreate(prefix), ok: (s) => s === 201 }),
    };
    const remove: Record<string, (prefix: string) => Way> = {
      floor: (prefix) => ({ floor: ['delete', pool, prefix] }),
      addon: (prefix) => ({ call: (i) => ctx.addon.removeImage({ pool, name: image(prefix, i) }) }),
      project: (prefix) => ({ base: de!.base, req: fnDelete(prefix), ok: (s) => s === 200 }),
    };
    const idle = await idleFloorEnv();
    // Latency at 1: the systems take turns, a slice each per round, so that
    // drift on a shared machine (and the pool filling up) weighs on all alike.
    const rounds = ctx.quick ? 2 : 4;
    const slice = Math.ceil(N.latencySlow / rounds);
    const samples = { create: new Map<string, number[][]>(), delete: new Map<string, number[][]>() };
    const add = (map: Map<string, number[][]>, system: string, s: number[]) => map.set(system, [...(map.get(system) ?? []), s]);
    await eventLoopP99Ms(cr!); // resets its histogram
    for (let r = 0; r < rounds; r++) {
      log(`create/delete latency, round ${r + 1} of ${rounds}`);
      for (const system of Object.keys(create)) {
        add(samples.create, system, await latency(create[system]!(`${system}1r${r}`), slice));
        if (remove[system]) add(samples.delete, system, await latency(remove[system]!(`${system}1r${r}`), slice));
      }
      // What only the create rows made goes, unmeasured, so the pool stays as it was.
      for (const system of Object.keys(create).filter((s) => !remove[s])) await fill(pool, `${system}1r${r}`, slice, 'delete');
    }
    const emitRounds = (op: string, system: string, map: Map<string, number[][]>, thr: Throughput) =>
      ctx.emit({ op, system, latency: summary(map.get(system)!.flat(), map.get(system)), throughput: thr });
    for (const system of Object.keys(create)) {
      const load = system === 'floor' || system === 'project' ? await throughput(create[system]!(`${system}32`), { amount: m }) : LATENCY_ONLY;
      emitRounds('create-image', system, samples.create, load);
    }
    for (const system of Object.keys(remove)) {
      const load = system === 'addon' ? LATENCY_ONLY : await throughput(remove[system]!(`${system}32`), { amount: m });
      emitRounds('delete-image', system, samples.delete, load);
    }
    ctx.emit({ op: 'create-image', system: 'project', metric: 'eventLoopP99Ms', value: await eventLoopP99Ms(cr!) });
    const dash = ctx.dashboard!;
    const dm = ctx.quick ? 16 : 64;
    const dashWays = {
      create: (prefix: string): Way => ({ base: dash.url, connections: DASHBOARD_CONNECTIONS, req: (i) => ({ method: 'POST', path: '/api/block/image', headers: dash.headers(), body: JSON.stringify({ pool_name: pool, name: image(prefix, i), size: 2 ** 30 }) }) }),
      delete: (prefix: string): Way => ({ base: dash.url, connections: DASHBOARD_CONNECTIONS, req: (i) => ({ method: 'DELETE', path: `/api/block/image/${pool}%2F${image(prefix, i)}`, headers: dash.headers() }) }),
    };
    const cliWays = {
      create: (prefix: string): Way => ({ cli: (i) => ['rbd', '-c', ctx.conf, 'create', '--size', '1G', `${pool}/${image(prefix, i)}`] }),
      delete: (prefix: string): Way => ({ cli: (i) => ['rbd', '-c', ctx.conf, 'rm', '--no-progress', `${pool}/${image(prefix, i)}`] }),
    };
    for (const [system, ways, n] of [['dashboard', dashWays, Math.min(N.latencySlow, 20)], ['cli', cliWays, N.cli]] as const) {
      log(`create/delete: ${system}`);
      for (const [op, way] of [['create-image', ways.create], ['delete-image', ways.delete]] as const) {
        ctx.emit({ op, system, latency: summary(await latency(way(`${system}1`), n)), throughput: await throughput(way(`${system}32`), { amount: dm }) });
      }
    }
  },
};

/**
 * Each lifecycle sample acts on an image of its own, made before the timed
 * part (floor prefill: 1 GiB images; floor clones: PREFIX-parent with 8 MiB
 * written and snapshot gold, and its clones), in a pool of their own; clones
 * are v2 for every system, as on a cluster that requires mimic clients.
 */
const LIFE = 'bench-life';
/** purge-trash's: each sample purges the one image moved to its trash just before. */
const PURGE = 'bench-purge';
const spec = (name: string, pool = LIFE) => encodeURIComponent(`${pool}/${name}`);
const rbd = (conf: string, ...argv: string[]) => exec('rbd', ['-c', conf, ...argv], { maxBuffer: 64 << 20 });
const trashIds = new Map<string, string>();
async function readTrash(conf: string, pool: string): Promise<void> {
  const entries = JSON.parse((await rbd(conf, 'trash', 'ls', '--format', 'json', pool)).stdout) as { id: string; name: string }[];
  for (const e of entries) trashIds.set(e.name, e.id);
}
type Prepare = (conf: string, prefix: string, count: number) => Promise<unknown>;
const prefill: Prepare = (_conf, prefix, count) => fill(LIFE, prefix, count);
const clones = (count: (n: number) => number): Prepare => (_conf, prefix, n) => floor('clones', [LIFE, prefix, String(count(n))]);
/** Images PREFIX-i, each with a snapshot "s" (the floor's snap_create makes them, its timings unused). */
const withSnapshot: Prepare = async (conf, prefix, count) => {
  await prefill(conf, prefix, count);
  await floor('latency', ['snap_create', String(count), LIFE, prefix]);
};
const trashed: Prepare = async (conf, prefix, count) => {
  await prefill(conf, prefix, count);
  for (let i = 0; i < count; i++) await rbd(conf, 'trash', 'mv', `${LIFE}/${prefix}-${i}`);
  await readTrash(conf, LIFE);
};
interface Life {
  op: string;
  /** 201 where the function makes something: a 200 would mean it was there already. */
  status: number;
  /** The floor op making the function's library calls, where there is one. */
  floorOp?: string;
  prepare?: Prepare;
  /** Untimed, before each sample. */
  before?: (conf: string, prefix: string, i: number) => Promise<unknown>;
  project: (prefix: string, i: number) => Record<string, unknown>;
  dashboard: (prefix: string, i: number) => Req;
  cli: (prefix: string, i: number) => string[];
}
const LIFECYCLE: Life[] = [
  {
    op: 'resize-image', status: 200, floorOp: 'resize', prepare: prefill,
    project: (p, i) => ({ pool: LIFE, name: image(p, i), size: '2Gi' }),
    dashboard: (p, i) => ({ method: 'PUT', path: `/api/block/image/${spec(image(p, i))}`, body: JSON.stringify({ size: 2 ** 31 }) }),
    cli: (p, i) => ['resize', '--no-progress', '--size', '2G', `${LIFE}/${image(p, i)}`],
  },
  {
    op: 'create-snapshot', status: 201, floorOp: 'snap_create', prepare: prefill,
    project: (p, i) => ({ pool: LIFE, image: image(p, i), snapshot: 's' }),
    dashboard: (p, i) => ({ method: 'POST', path: `/api/block/image/${spec(image(p, i))}/snap`, body: JSON.stringify({ snapshot_name: 's', mirrorImageSnapshot: false }) }),
    cli: (p, i) => ['snap', 'create', '--no-progress', `${LIFE}/${image(p, i)}@s`],
  },
  {
    op: 'clone-image', status: 201, floorOp: 'clone', prepare: clones(() => 0),
    project: (p, i) => ({ pool: LIFE, image: `${p}-parent`, snapshot: 'gold', name: image(p, i) }),
    dashboard: (p, i) => ({ method: 'POST', path: `/api/block/image/${spec(`${p}-parent`)}/snap/gold/clone`, body: JSON.stringify({ child_pool_name: LIFE, child_image_name: image(p, i) }) }),
    cli: (p, i) => ['clone', `${LIFE}/${p}-parent@gold`, `${LIFE}/${image(p, i)}`],
  },
  {
    op: 'flatten-image', status: 200, floorOp: 'flatten', prepare: clones((n) => n),
    project: (p, i) => ({ pool: LIFE, name: image(p, i) }),
    dashboard: (p, i) => ({ method: 'POST', path: `/api/block/image/${spec(image(p, i))}/flatten` }),
    cli: (p, i) => ['flatten', '--no-progress', `${LIFE}/${image(p, i)}`],
  },
  // The other functions, beside the dashboard's nearest call (no floor of their own).
  {
    op: 'get-image', status: 200, prepare: prefill,
    project: (p, i) => ({ pool: LIFE, name: image(p, i) }),
    dashboard: (p, i) => ({ method: 'GET', path: `/api/block/image/${spec(image(p, i))}` }),
    cli: (p, i) => ['info', '--format', 'json', `${LIFE}/${image(p, i)}`],
  },
  {
    // The dashboard lists an image's snapshots only as part of the image.
    op: 'list-snapshots', status: 200, prepare: withSnapshot,
    project: (p, i) => ({ pool: LIFE, image: image(p, i) }),
    dashboard: (p, i) => ({ method: 'GET', path: `/api/block/image/${spec(image(p, i))}` }),
    cli: (p, i) => ['snap', 'ls', '--format', 'json', `${LIFE}/${image(p, i)}`],
  },
  {
    op: 'delete-snapshot', status: 200, prepare: withSnapshot,
    project: (p, i) => ({ pool: LIFE, image: image(p, i), snapshot: 's' }),
    dashboard: (p, i) => ({ method: 'DELETE', path: `/api/block/image/${spec(image(p, i))}/snap/s` }),
    cli: (p, i) => ['snap', 'rm', '--no-progress', `${LIFE}/${image(p, i)}@s`],
  },
  {
    op: 'rollback-image', status: 200, prepare: withSnapshot,
    project: (p, i) => ({ pool: LIFE, name: image(p, i), snapshot: 's' }),
    dashboard: (p, i) => ({ method: 'POST', path: `/api/block/image/${spec(image(p, i))}/snap/s/rollback` }),
    cli: (p, i) => ['snap', 'rollback', '--no-progress', `${LIFE}/${image(p, i)}@s`],
  },
  {
    op: 'list-trash', status: 200,
    project: () => ({ pool: LIFE }),
    dashboard: () => ({ method: 'GET', path: `/api/block/image/trash?pool_name=${LIFE}` }),
    cli: () => ['trash', 'ls', '--format', 'json', LIFE],
  },
  {
    op: 'restore-image', status: 200, prepare: trashed,
    project: (p, i) => ({ pool: LIFE, id: trashIds.get(image(p, i)) }),
    dashboard: (p, i) => ({ method: 'POST', path: `/api/block/image/trash/${spec(trashIds.get(image(p, i))!)}/restore`, body: JSON.stringify({ new_image_name: image(p, i) }) }),
    cli: (p, i) => ['trash', 'restore', `${LIFE}/${trashIds.get(image(p, i))}`],
  },
  {
    op: 'purge-trash', status: 200,
    before: async (conf, p, i) => {
      await rbd(conf, 'create', '--size', '1G', `${PURGE}/${image(p, i)}`);
      await rbd(conf, 'trash', 'mv', `${PURGE}/${image(p, i)}`);
      await readTrash(conf, PURGE);
    },
    project: () => ({ pool: PURGE }),
    // Its purge endpoint answered ENOENT ("error deleting image from trash")
    // for a trash holding one image just moved there, so: its removal of that image.
    dashboard: (p, i) => ({ method: 'DELETE', path: `/api/block/image/trash/${spec(trashIds.get(image(p, i))!, PURGE)}` }),
    cli: () => ['trash', 'purge', '--no-progress', PURGE],
  },
];

/**
 * A dashboard call taking over its task's wait (2-4 s) answers 202 with the
 * task's name and metadata, and the task runs on: the time is to its end,
 * and a task that failed fails the run.
 */
async function dashboardCall(ctx: Context, req: Req): Promise<void> {
  const dash = ctx.dashboard!;
  const res = await request(dash.url, { ...req, headers: dash.headers() });
  if (!ok2xx(res.status)) throw new Error(`dashboard ${req.path}: HTTP ${res.status} ${res.body}`);
  if (res.status !== 202) return;
  const task = JSON.parse(res.body) as { name: string; metadata: unknown };
  const same = (t: { metadata: unknown }) => JSON.stringify(t.metadata) === JSON.stringify(task.metadata);
  for (;;) {
    const { body } = await request(dash.url, { method: 'GET', path: `/api/task?name=${encodeURIComponent(task.name)}`, headers: dash.headers() });
    const tasks = JSON.parse(body) as { executing_tasks: { metadata: unknown }[]; finished_tasks: { metadata: unknown; success: boolean; exception?: unknown }[] };
    const finished = tasks.finished_tasks.find(same);
    if (finished && !finished.success) throw new Error(`dashboard task ${task.name} failed: ${JSON.stringify(finished.exception)}`);
    if (finished || !tasks.executing_tasks.some(same)) return;
    await sleep(20);
  }
}

export const lifecycle: Scenario = {
  name: 'lifecycle',
  dashboard: true,
  pools: { [LIFE]: 0, [PURGE]: 0 },
  async run(ctx) {
    const n = ctx.quick ? 6 : 30;
    const rounds = ctx.quick ? 1 : 3;
    const slice = Math.ceil(n / rounds);
    /** The first calls of each round are untimed, as the floor's own warm-ups are. */
    const WARM = 2;
    await exec('ceph', ['-c', ctx.conf, 'osd', 'set-require-min-compat-client', 'mimic', '--yes-i-really-mean-it']);
    for (const life of LIFECYCLE) {
      const fn = await service(life.op);
      const samples = new Map<string, number[]>((life.floorOp ? ['floor', 'project', 'dashboard', 'cli'] : ['project', 'dashboard', 'cli']).map((s) => [s, []]));
      const calls: Record<string, (prefix: string, i: number) => Promise<unknown>> = {
        project: async (prefix, i) => {
          const { status, body } = await request(fn.base, { method: 'POST', path: '/', body: JSON.stringify(life.project(prefix, i)) });
          if (status !== life.status) throw new Error(`${life.op}: HTTP ${status}, not ${life.status}: ${body.slice(0, 200)}`);
        },
        dashboard: (prefix, i) => dashboardCall(ctx, life.dashboard(prefix, i)),
        cli: (prefix, i) => exec('rbd', ['-c', ctx.conf, ...life.cli(prefix, i)], { maxBuffer: 64 << 20 }),
      };
      for (let r = 0; r < rounds; r++) {
        log(`${life.op}, round ${r + 1} of ${rounds}: ${[...samples.keys()].join(', ')}`);
        const prefix = (system: string) => `${life.op}-${system}${r}`;
        for (const system of samples.keys()) await life.prepare?.(ctx.conf, prefix(system), slice + WARM);
        if (life.floorOp) samples.get('floor')!.push(...(await latency({ floor: [life.floorOp, LIFE, prefix('floor')] }, slice)));
        for (const system of ['project', 'dashboard', 'cli']) {
          for (let i = 0; i < slice + WARM; i++) {
            await life.before?.(ctx.conf, prefix(system), i);
            const [took] = await latency({ call: () => calls[system]!(prefix(system), i) }, 1);
            if (i >= WARM) samples.get(system)!.push(took!);
          }
        }
      }
      for (const [system, values] of samples) ctx.emit({ op: life.op, system, latency: summary(values), throughput: LATENCY_ONLY });
    }
  },
};
