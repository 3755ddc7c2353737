/**
 * The side-by-side benchmark's driver (bench/compare/run.sh sets it up):
 * each operation done by the floor (bench/compare/floor.c, librbd in C), by
 * this project (one function process each, over HTTP), by the Ceph dashboard
 * REST API and by the rbd/ceph CLIs, on one sandbox cluster, one system after
 * another. Prints one JSON line per measurement on stdout.
 *
 *   node dist/bench/compare/bench.js --floor PATH --mode full|quick
 *
 * Env: CEPH_CONF, CEPH_KEYRING (the sandbox), DASHBOARD_URL, DASHBOARD_USER,
 * DASHBOARD_PASSWORD_FILE.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import autocannon from 'autocannon';

const run = promisify(execFile);
const { values: args } = parseArgs({ options: { floor: { type: 'string' }, mode: { type: 'string', default: 'full' } } });
const quick = args.mode === 'quick';
const root = path.resolve(__dirname, '../../..');
const conf = process.env.CEPH_CONF!;

/** Sizes of one run; quick keeps CI under two minutes. */
const N = quick
  ? { latency: 30, latencySlow: 8, cli: 5, seconds: 2, mutate: 32, cold: 3 }
  : { latency: 300, latencySlow: 40, cli: 20, seconds: 5, mutate: 256, cold: 7 };
const CONCURRENCY = 32;
/**
 * The dashboard's web server (cherrypy) has 10 worker threads and a listen
 * queue of 5: beyond 10 connections it only adds dropped-connection stalls
 * of 1-3 s, so it gets its best case, 10.
 */
const DASHBOARD_CONNECTIONS = 10;
/** A detail page is 100 image opens (~3 ms of client CPU each): 8 at once already saturate 2 CPUs. */
const DETAIL_CONCURRENCY = 8;
const LARGE_POOLS = quick ? ['bench-1k'] : ['bench-1k', 'bench-10k'];
/** What a function's image runs (Dockerfile.base): the bundle, not dist/shared. */
const FUNCTION = 'dist/bundle/function.js';
/** Bundled the same way (run.sh), so that module loading costs both the same. */
const EXPRESS_FLOOR = 'dist/bench/bundle/express-floor.js';

/**
 * The lifecycle rows: each sample acts on an image of its own, made before the
 * timed part (floor prefill: 1 GiB images; floor clones: PREFIX-parent with
 * 8 MiB written and snapshot gold, and its clones), in a pool of their own.
 */
const LIFE_POOL = 'bench-life';
/** purge-trash's: each sample purges the one image moved to its trash just before. */
const PURGE_POOL = 'bench-purge';
const spec = (name: string, pool = LIFE_POOL) => encodeURIComponent(`${pool}/${name}`);
const prefill = (prefix: string, count: number) => floor('prefill', conf, LIFE_POOL, prefix, String(count)).then(() => undefined);
const clones = (count: (n: number) => number) => (prefix: string, n: number) => floor('clones', conf, LIFE_POOL, prefix, String(count(n))).then(() => undefined);
/** Images PREFIX-i, each with a snapshot "s" (the floor's snap_create makes them, its timings unused). */
const withSnapshot = async (prefix: string, count: number) => {
  await prefill(prefix, count);
  await floor('latency', conf, 'snap_create', String(count), LIFE_POOL, prefix);
};
const rbdCli = (...argv: string[]) => run('rbd', ['-c', conf, ...argv], { maxBuffer: 64 << 20 });
/** Images PREFIX-i moved to the trash, and their trash ids by name for the restores. */
const trashIds = new Map<string, string>();
const trashed = async (prefix: string, count: number) => {
  await prefill(prefix, count);
  for (let i = 0; i < count; i++) await rbdCli('trash', 'mv', `${LIFE_POOL}/${prefix}-${i}`);
  const entries = JSON.parse((await rbdCli('trash', 'ls', '--format', 'json', LIFE_POOL)).stdout) as { id: string; name: string }[];
  for (const e of entries) trashIds.set(e.name, e.id);
};
const nothing = async () => undefined;
const LIFECYCLE = [
  {
    op: 'resize-image',
    fn: 'resize-image',
    status: 200,
    floorOp: 'resize',
    prepare: prefill,
    project: (prefix: string, i: number) => ({ pool: LIFE_POOL, name: `${prefix}-${i}`, size: '2Gi' }),
    dashboard: (prefix: string, i: number) => ({ method: 'PUT', path: `/api/block/image/${spec(`${prefix}-${i}`)}`, body: JSON.stringify({ size: 2 ** 31 }) }),
    cli: (prefix: string, i: number) => ['resize', '--no-progress', '--size', '2G', `${LIFE_POOL}/${prefix}-${i}`],
  },
  {
    op: 'create-snapshot',
    fn: 'create-snapshot',
    status: 201,
    floorOp: 'snap_create',
    prepare: prefill,
    project: (prefix: string, i: number) => ({ pool: LIFE_POOL, image: `${prefix}-${i}`, snapshot: 's' }),
    dashboard: (prefix: string, i: number) => ({
      method: 'POST',
      path: `/api/block/image/${spec(`${prefix}-${i}`)}/snap`,
      body: JSON.stringify({ snapshot_name: 's', mirrorImageSnapshot: false }),
    }),
    cli: (prefix: string, i: number) => ['snap', 'create', '--no-progress', `${LIFE_POOL}/${prefix}-${i}@s`],
  },
  {
    op: 'clone-image',
    fn: 'clone-image',
    status: 201,
    floorOp: 'clone',
    prepare: clones(() => 0),
    project: (prefix: string, i: number) => ({ pool: LIFE_POOL, image: `${prefix}-parent`, snapshot: 'gold', name: `${prefix}-${i}` }),
    dashboard: (prefix: string, i: number) => ({
      method: 'POST',
      path: `/api/block/image/${spec(`${prefix}-parent`)}/snap/gold/clone`,
      body: JSON.stringify({ child_pool_name: LIFE_POOL, child_image_name: `${prefix}-${i}` }),
    }),
    cli: (prefix: string, i: number) => ['clone', `${LIFE_POOL}/${prefix}-parent@gold`, `${LIFE_POOL}/${prefix}-${i}`],
  },
  {
    op: 'flatten-image',
    fn: 'flatten-image',
    status: 200,
    floorOp: 'flatten',
    prepare: clones((n) => n),
    project: (prefix: string, i: number) => ({ pool: LIFE_POOL, name: `${prefix}-${i}` }),
    dashboard: (prefix: string, i: number) => ({ method: 'POST', path: `/api/block/image/${spec(`${prefix}-${i}`)}/flatten` }),
    cli: (prefix: string, i: number) => ['flatten', '--no-progress', `${LIFE_POOL}/${prefix}-${i}`],
  },
  // The other functions, beside the dashboard's nearest call (no floor of their own).
  {
    op: 'get-image',
    fn: 'get-image',
    status: 200,
    prepare: prefill,
    project: (prefix: string, i: number) => ({ pool: LIFE_POOL, name: `${prefix}-${i}` }),
    dashboard: (prefix: string, i: number) => ({ method: 'GET', path: `/api/block/image/${spec(`${prefix}-${i}`)}` }),
    cli: (prefix: string, i: number) => ['info', '--format', 'json', `${LIFE_POOL}/${prefix}-${i}`],
  },
  {
    // The dashboard lists an image's snapshots only as part of the image.
    op: 'list-snapshots',
    fn: 'list-snapshots',
    status: 200,
    prepare: withSnapshot,
    project: (prefix: string, i: number) => ({ pool: LIFE_POOL, image: `${prefix}-${i}` }),
    dashboard: (prefix: string, i: number) => ({ method: 'GET', path: `/api/block/image/${spec(`${prefix}-${i}`)}` }),
    cli: (prefix: string, i: number) => ['snap', 'ls', '--format', 'json', `${LIFE_POOL}/${prefix}-${i}`],
  },
  {
    op: 'delete-snapshot',
    fn: 'delete-snapshot',
    status: 200,
    prepare: withSnapshot,
    project: (prefix: string, i: number) => ({ pool: LIFE_POOL, image: `${prefix}-${i}`, snapshot: 's' }),
    dashboard: (prefix: string, i: number) => ({ method: 'DELETE', path: `/api/block/image/${spec(`${prefix}-${i}`)}/snap/s` }),
    cli: (prefix: string, i: number) => ['snap', 'rm', '--no-progress', `${LIFE_POOL}/${prefix}-${i}@s`],
  },
  {
    op: 'rollback-image',
    fn: 'rollback-image',
    status: 200,
    prepare: withSnapshot,
    project: (prefix: string, i: number) => ({ pool: LIFE_POOL, name: `${prefix}-${i}`, snapshot: 's' }),
    dashboard: (prefix: string, i: number) => ({ method: 'POST', path: `/api/block/image/${spec(`${prefix}-${i}`)}/snap/s/rollback` }),
    cli: (prefix: string, i: number) => ['snap', 'rollback', '--no-progress', `${LIFE_POOL}/${prefix}-${i}@s`],
  },
  {
    op: 'list-trash',
    fn: 'list-trash',
    status: 200,
    prepare: nothing,
    project: () => ({ pool: LIFE_POOL }),
    dashboard: () => ({ method: 'GET', path: `/api/block/image/trash?pool_name=${LIFE_POOL}` }),
    cli: () => ['trash', 'ls', '--format', 'json', LIFE_POOL],
  },
  {
    op: 'restore-image',
    fn: 'restore-image',
    status: 200,
    prepare: trashed,
    project: (prefix: string, i: number) => ({ pool: LIFE_POOL, id: trashIds.get(`${prefix}-${i}`) }),
    dashboard: (prefix: string, i: number) => ({
      method: 'POST',
      path: `/api/block/image/trash/${spec(trashIds.get(`${prefix}-${i}`)!)}/restore`,
      body: JSON.stringify({ new_image_name: `${prefix}-${i}` }),
    }),
    cli: (prefix: string, i: number) => ['trash', 'restore', `${LIFE_POOL}/${trashIds.get(`${prefix}-${i}`)}`],
  },
  {
    op: 'purge-trash',
    fn: 'purge-trash',
    status: 200,
    prepare: nothing,
    before: async (prefix: string, i: number) => {
      await rbdCli('create', '--size', '1G', `${PURGE_POOL}/${prefix}-${i}`);
      await rbdCli('trash', 'mv', `${PURGE_POOL}/${prefix}-${i}`);
      const [entry] = JSON.parse((await rbdCli('trash', 'ls', '--format', 'json', PURGE_POOL)).stdout) as { id: string; name: string }[];
      trashIds.set(entry!.name, entry!.id);
    },
    project: () => ({ pool: PURGE_POOL }),
    // Its purge endpoint answered ENOENT ("error deleting image from trash")
    // for a trash holding one image just moved there, so: its removal of that image.
    dashboard: (prefix: string, i: number) => ({ method: 'DELETE', path: `/api/block/image/trash/${spec(trashIds.get(`${prefix}-${i}`)!, PURGE_POOL)}` }),
    cli: () => ['trash', 'purge', '--no-progress', PURGE_POOL],
  },
] as {
  op: string;
  fn: string;
  status: number;
  /** The floor op making the function's library calls, where there is one. */
  floorOp?: string;
  prepare: (prefix: string, count: number) => Promise<void>;
  /** Untimed, before each sample. */
  before?: (prefix: string, i: number) => Promise<unknown>;
  project: (prefix: string, i: number) => Record<string, unknown>;
  dashboard: (prefix: string, i: number) => Req;
  cli: (prefix: string, i: number) => string[];
}[];

type System = 'floor' | 'floor-idle' | 'floor-bare' | 'project' | 'dashboard' | 'cli' | 'express' | 'express-ceph';
function emit(record: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(record)}\n`);
}
const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

// ---------------------------------------------------------------- helpers

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
function summary(samplesUs: number[]) {
  const s = [...samplesUs].sort((a, b) => a - b);
  return { n: s.length, p50_us: percentile(s, 50), p99_us: percentile(s, 99), mean_us: s.reduce((a, b) => a + b, 0) / s.length };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
interface Req {
  method: string;
  path: string;
  body?: string;
  headers?: Record<string, string>;
}
/** One HTTP request on a kept-alive socket; resolves the status, rejects on a network error. */
function request(base: string, req: Req): Promise<number> {
  return new Promise((resolve, reject) => {
    const r = http.request(
      `${base}${req.path}`,
      { method: req.method, agent, headers: { ...(req.body ? { 'content-type': 'application/json' } : {}), ...req.headers } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      },
    );
    r.on('error', reject);
    r.end(req.body);
  });
}

/** p50/p99 at concurrency 1: n sequential requests; each must answer `ok`. */
async function httpLatency(base: string, n: number, make: (i: number) => Req, ok: (status: number) => boolean) {
  return summary(await httpSamples(base, n, make, ok));
}

/** Throughput at concurrency 32 with autocannon: for `seconds`, or for exactly `amount` requests. */
async function httpThroughput(base: string, make: (i: number) => Req, limit: { seconds?: number; amount?: number }, connections = CONCURRENCY) {
  let i = 0;
  const started = process.hrtime.bigint();
  const result = await autocannon({
    url: base,
    connections,
    ...(limit.amount ? { amount: limit.amount } : { duration: limit.seconds }),
    requests: [
      {
        setupRequest: (req) => {
          const r = make(i++);
          return { ...req, method: r.method as 'GET', path: r.path, body: r.body, headers: { ...(r.body ? { 'content-type': 'application/json' } : {}), ...r.headers } };
        },
      },
    ],
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const done = result.requests.total;
  return { per_second: limit.amount ? done / seconds : result.requests.average, ops: done, seconds, connections, non2xx: result.non2xx, errors: result.errors + result.timeouts };
}

async function floor(...argv: string[]) {
  return floorWith({}, ...argv);
}

async function floorWith(env: Record<string, string>, ...argv: string[]) {
  const { stdout } = await run(args.floor!, argv, { maxBuffer: 16 << 20, env: { ...process.env, ...env } });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, number>;
}

/**
 * The floor as a server runs it: each call on a second thread, after an idle
 * pause as long as a bare express round trip (a function's Ceph threads sleep
 * between requests at concurrency 1, and wake for each).
 */
let serverGapUs = 1000;
const idleEnv = () => ({ FLOOR_GAP_US: String(Math.round(serverGapUs)), FLOOR_HANDOFF: '1' });
const floorIdle = (...argv: string[]) => floorWith(idleEnv(), 'latency', ...argv);

/** The floor's latency samples (µs) of one invocation. */
async function floorSamples(...argv: string[]): Promise<number[]> {
  return floorSamplesWith({}, ...argv);
}

async function floorSamplesWith(env: Record<string, string>, ...argv: string[]): Promise<number[]> {
  const out = (await floorWith({ ...env, FLOOR_SAMPLES: '1' }, 'latency', ...argv)) as unknown as { samples_us: number[] };
  return out.samples_us;
}

/** Sequential HTTP request times (µs); each must answer `ok`. */
async function httpSamples(base: string, n: number, make: (i: number) => Req, ok: (status: number) => boolean): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    const status = await request(base, make(i));
    samples.push(Number(process.hrtime.bigint() - t) / 1000);
    if (!ok(status)) throw new Error(`${base}${make(i).path}: HTTP ${status}`);
  }
  return samples;
}

/** One CLI process per operation, timed from spawn to exit. */
async function cliOnce(argv: string[]): Promise<number> {
  const t = process.hrtime.bigint();
  await run(argv[0]!, argv.slice(1), { maxBuffer: 64 << 20 });
  return Number(process.hrtime.bigint() - t) / 1000;
}
async function cliLatency(n: number, make: (i: number) => string[]) {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) samples.push(await cliOnce(make(i)));
  return summary(samples);
}
async function cliThroughput(make: (i: number) => string[], limit: { seconds?: number; amount?: number }, width = CONCURRENCY) {
  let i = 0;
  let done = 0;
  const started = Date.now();
  const deadline = limit.seconds ? started + limit.seconds * 1000 : Infinity;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (Date.now() < deadline && (!limit.amount || i < limit.amount)) {
        await cliOnce(make(i++));
        done++;
      }
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  return { per_second: done / seconds, ops: done, seconds, connections: width, non2xx: 0, errors: 0 };
}

// ------------------------------------------------------------ processes

interface Proc {
  child: ChildProcess;
  base: string;
}

async function waitOk(base: string, path: string, timeoutMs = 30_000): Promise<number> {
  const started = process.hrtime.bigint();
  for (;;) {
    const status = await request(base, { method: 'GET', path }).catch(() => 0);
    if (status === 200) return Number(process.hrtime.bigint() - started) / 1e6;
    if (Number(process.hrtime.bigint() - started) / 1e6 > timeoutMs) throw new Error(`${base}: no 200 within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Starts a process and times it to its first 200 on `path` (list-pools' own answer for cold starts). */
async function startProcess(script: string, argv: string[], readyPath = '/_/ready'): Promise<Proc & { coldMs: number }> {
  const port = await freePort();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rbd-bench-fn-'));
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [path.join(root, script), ...argv], {
    env: { ...process.env, PORT: String(port), TMPDIR: tmp },
    stdio: ['ignore', fs.openSync(path.join(tmp, 'out.log'), 'a'), 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  await waitOk(base, readyPath);
  return { child, base, coldMs: Number(process.hrtime.bigint() - started) / 1e6 };
}

function stop(proc: Proc): Promise<void> {
  return new Promise((resolve) => {
    if (proc.child.exitCode !== null) return resolve();
    proc.child.once('exit', () => resolve());
    proc.child.kill('SIGTERM');
  });
}

function rssKiB(proc: Proc): number {
  const status = fs.readFileSync(`/proc/${proc.child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]);
}

async function eventLoopP99Ms(proc: Proc): Promise<number> {
  const text = await fetch(`${proc.base}/metrics`).then((r) => r.text());
  return Number(/^nodejs_eventloop_lag_p99_seconds (\S+)/m.exec(text)![1]) * 1000;
}

// ------------------------------------------------------------ dashboard

async function dashboardToken(): Promise<string> {
  const password = fs.readFileSync(process.env.DASHBOARD_PASSWORD_FILE!, 'utf8').trim();
  const res = await fetch(`${process.env.DASHBOARD_URL}/api/auth`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/vnd.ceph.api.v1.0+json' },
    body: JSON.stringify({ username: process.env.DASHBOARD_USER, password }),
  });
  if (!res.ok) throw new Error(`dashboard auth: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

// ------------------------------------------------------------ the run

async function main(): Promise<void> {
  const token = await dashboardToken();
  const dash = process.env.DASHBOARD_URL!;
  const dh = (version = '1.0') => ({ authorization: `Bearer ${token}`, accept: `application/vnd.ceph.api.v${version}+json` });

  log('starting the function processes and the express floor');
  const fns: Record<string, Proc> = {};
  for (const name of ['list-pools', 'list-images', 'create-image', 'delete-image', ...LIFECYCLE.map((l) => l.fn)]) {
    fns[name] = await startProcess(FUNCTION, [name]);
  }
  const express = await startProcess(EXPRESS_FLOOR, [], '/');
  const expressCeph = await startProcess(EXPRESS_FLOOR, ['--ceph'], '/');

  const ok2xx = (s: number) => s >= 200 && s < 300;

  /** The c=1 latency and c=32 throughput of one op on one system. */
  async function measure(op: string, system: System, latency: () => Promise<object>, throughput: () => Promise<object>, extra: object = {}) {
    log(`${op}: ${system}`);
    const lat = await latency();
    const thr = await throughput();
    emit({ op, system, latency: lat, throughput: thr, ...extra });
  }

  // cold starts, before any load, turn about with bare express over the addon
  {
    log('function process: cold starts');
    const cold: number[] = [];
    const coldFloor: number[] = [];
    for (let i = 0; i < N.cold; i++) {
      for (const [script, argv, into] of [[FUNCTION, ['list-pools'], cold], [EXPRESS_FLOOR, ['--ceph'], coldFloor]] as const) {
        const p = await startProcess(script, [...argv], '/');
        into.push(p.coldMs);
        await stop(p);
      }
    }
    for (const [system, samples] of [['project', cold], ['express-ceph', coldFloor]] as const) {
      const sorted = [...samples].sort((a, b) => a - b);
      emit({ op: 'process', system, metric: 'coldStartMs', p50: percentile(sorted, 50), max: sorted.at(-1), samples });
    }
  }

  // list pools ------------------------------------------------------------
  {
    const op = 'list-pools';
    const fn = fns['list-pools']!;
    const get = () => ({ method: 'GET', path: '/' });
    const dreq = () => ({ method: 'GET', path: '/api/pool?attrs=pool_name,application_metadata', headers: dh() });
    // Two targets are throughput ratios between these systems: they take
    // turns, a slice of the time each per round, so drift on a shared machine
    // weighs on all alike.
    type Thr = { per_second?: number; ops?: number; non2xx?: number; errors?: number };
    const systems: [System, () => Promise<object>, (seconds: number) => Promise<Thr>][] = [
      ['floor', () => floor('latency', conf, 'list_pools', String(N.latency)), (sec) => floor('throughput', conf, 'list_pools', String(CONCURRENCY), String(sec))],
      ['project', () => httpLatency(fn.base, N.latency, get, ok2xx), (sec) => httpThroughput(fn.base, get, { seconds: sec })],
      ['express', () => httpLatency(express.base, N.latency, get, ok2xx), (sec) => httpThroughput(express.base, get, { seconds: sec })],
      ['express-ceph', () => httpLatency(expressCeph.base, N.latency, get, ok2xx), (sec) => httpThroughput(expressCeph.base, get, { seconds: sec })],
      ['dashboard', () => httpLatency(dash, N.latencySlow, dreq, ok2xx), (sec) => httpThroughput(dash, dreq, { seconds: sec }, DASHBOARD_CONNECTIONS)],
    ];
    const latencies = new Map<System, object>();
    for (const [system, lat] of systems) {
      log(`${op}: ${system}, latency`);
      latencies.set(system, await lat());
    }
    serverGapUs = (latencies.get('express') as { p50_us?: number }).p50_us ?? serverGapUs;
    log(`${op}: floor-idle (gap ${Math.round(serverGapUs)} µs), latency`);
    emit({ op, system: 'floor-idle', latency: await floorIdle(conf, 'list_pools', String(N.latency)), throughput: { skipped: 'latency only' } });
    const rounds = quick ? 1 : 3;
    const rates = new Map<System, Thr[]>(systems.map(([system]) => [system, []]));
    await eventLoopP99Ms(fn); // resets the histogram
    for (let r = 0; r < rounds; r++) {
      log(`${op}: throughput, round ${r + 1} of ${rounds}`);
      for (const [system, , thr] of systems) rates.get(system)!.push(await thr(Math.max(2, Math.round(N.seconds * 0.6))));
    }
    emit({ op, system: 'project', metric: 'eventLoopP99Ms', value: await eventLoopP99Ms(fn) });
    for (const [system] of systems) {
      const runs = rates.get(system)!;
      const sum = (k: keyof Thr) => runs.reduce((a, t) => a + (t[k] ?? 0), 0);
      const throughput = { per_second: sum('per_second') / runs.length, rounds: runs.map((t) => t.per_second), non2xx: sum('non2xx'), errors: sum('errors') };
      emit({ op, system, latency: latencies.get(system), throughput });
    }
    const cli = () => ['ceph', '-c', conf, 'osd', 'pool', 'ls', 'detail', '--format', 'json'];
    await measure(op, 'cli', () => cliLatency(N.cli, cli), () => cliThroughput(cli, { seconds: N.seconds }));
  }

  // list images, names only -------------------------------------------------
  for (const pool of LARGE_POOLS) {
    const op = `list-images ${pool}`;
    const count = Number(/(\d+)k$/.exec(pool)![1]) * 1000;
    await measure(op, 'floor', () => floor('latency', conf, 'list_images', String(N.latencySlow), pool), () => floor('throughput', conf, 'list_images', String(CONCURRENCY), String(N.seconds), pool));
    emit({ op, system: 'floor-idle', latency: await floorIdle(conf, 'list_images', String(N.latencySlow), pool), throughput: { skipped: 'latency only' } });
    const fn = fns['list-images']!;
    const freq = () => ({ method: 'GET', path: `/?pool=${pool}&limit=${count}` });
    await eventLoopP99Ms(fn);
    await measure(op, 'project', () => httpLatency(fn.base, N.latencySlow, freq, ok2xx), () => httpThroughput(fn.base, freq, { seconds: N.seconds }));
    emit({ op, system: 'project', metric: 'eventLoopP99Ms', value: await eventLoopP99Ms(fn) });
    // The function's answer as constant bytes over bare express: the page's
    // own HTTP cost, which the floor (listing in memory) never pays.
    const answer = await fetch(`${fn.base}${freq().path}`).then((r) => r.text());
    await fetch(`${express.base}/page`, { method: 'PUT', body: answer });
    const pageReq = () => ({ method: 'GET', path: '/page' });
    emit({ op, system: 'express', latency: await httpLatency(express.base, N.latencySlow, pageReq, ok2xx), throughput: { skipped: 'latency only' }, bytes: Buffer.byteLength(answer) });
    const exReq = () => ({ method: 'GET', path: `/images?pool=${pool}&limit=${count}` });
    emit({ op, system: 'express-ceph', latency: await httpLatency(expressCeph.base, N.latencySlow, exReq, ok2xx), throughput: { skipped: 'latency only' } });
    // The dashboard lists in pages and stats every image it lists.
    // Pages of 100; a whole 10,000-image listing takes minutes (~20 ms per
    // image), so the time is the pages timed, scaled to the pool's page count.
    const pageSize = 100;
    const pages = Math.ceil(count / pageSize);
    const timed = Math.min(pages, quick ? 2 : 5);
    const dashList = async () => {
      const t = process.hrtime.bigint();
      for (let page = 0; page < timed; page++) {
        const status = await request(dash, { method: 'GET', path: `/api/block/image?pool_name=${pool}&offset=${page * pageSize}&limit=${pageSize}`, headers: dh('2.0') });
        if (!ok2xx(status)) throw new Error(`dashboard list ${pool}: HTTP ${status}`);
      }
      return (Number(process.hrtime.bigint() - t) / 1000) * (pages / timed);
    };
    await measure(
      op,
      'dashboard',
      async () => {
        const samples = [];
        for (let k = 0; k < (quick ? 1 : 2); k++) samples.push(await dashList());
        return summary(samples);
      },
      async () => ({ skipped: 'a whole listing takes minutes' }),
      { pages, pageSize, pagesTimed: timed },
    );
    const cli = () => ['rbd', '-c', conf, 'ls', '-p', pool];
    await measure(op, 'cli', () => cliLatency(N.cli, cli), () => cliThroughput(cli, { seconds: N.seconds }));
  }

  // one page of 100 with detail ---------------------------------------------
  {
    const op = 'list-images detail 100';
    const pool = 'bench-100';
    // The floor's requests share one pool of 16 stat threads, as one function process does.
    process.env.FLOOR_STAT_SHARED = '1';
    const dlat = quick ? 3 : 10;
    await measure(op, 'floor', () => floor('latency', conf, 'list_images_detail', String(dlat), pool), () => floor('throughput', conf, 'list_images_detail', String(DETAIL_CONCURRENCY), String(N.seconds), pool));
    const fn = fns['list-images']!;
    const freq = () => ({ method: 'GET', path: `/?pool=${pool}&detail=true&limit=100` });
    await measure(op, 'project', () => httpLatency(fn.base, dlat, freq, ok2xx), () => httpThroughput(fn.base, freq, { seconds: N.seconds }, DETAIL_CONCURRENCY));
    const dreq = () => ({ method: 'GET', path: `/api/block/image?pool_name=${pool}&offset=0&limit=100`, headers: dh('2.0') });
    await measure(op, 'dashboard', () => httpLatency(dash, quick ? 2 : 5, dreq, ok2xx), () => httpThroughput(dash, dreq, { seconds: N.seconds }, DETAIL_CONCURRENCY));
    const cli = () => ['rbd', '-c', conf, 'ls', '-l', '--format', 'json', '-p', pool];
    await measure(op, 'cli', () => cliLatency(quick ? 2 : 5, cli), () => cliThroughput(cli, { seconds: N.seconds }, DETAIL_CONCURRENCY));
  }

  // create a 1 GiB image, then delete it --------------------------------------
  {
    const pool = 'rbd';
    const lat = N.latencySlow;
    const m = N.mutate;
    const pair = async (system: System, create: { lat: () => Promise<object>; thr: () => Promise<object> }, remove: { lat: () => Promise<object>; thr: () => Promise<object> }) => {
      log(`create/delete: ${system}`);
      emit({ op: 'create-image', system, latency: await create.lat(), throughput: await create.thr() });
      emit({ op: 'delete-image', system, latency: await remove.lat(), throughput: await remove.thr() });
    };
    // The floor makes create-image's library calls: rbd_create4, then the two
    // reads that describe the new image for the answer. floor-bare is
    // rbd_create4 alone, to show what the read-back costs.
    const cr = fns['create-image']!;
    const de = fns['delete-image']!;
    const fnCreate = (prefix: string) => (i: number) => ({ method: 'POST', path: '/', body: JSON.stringify({ pool, name: `${prefix}-${i}`, size: '1Gi' }) });
    const fnDelete = (prefix: string) => (i: number) => ({ method: 'DELETE', path: `/?pool=${pool}&name=${prefix}-${i}` });

    // Latency at 1: the floor and the project take turns, a slice each per
    // round, so that drift in a shared machine (and the pool filling up)
    // weighs on both alike.
    const rounds = quick ? 2 : 4;
    const slice = Math.ceil(lat / rounds);
    const samples = {
      create: { floor: [] as number[], 'floor-bare': [] as number[], 'floor-idle': [] as number[], 'express-ceph': [] as number[], project: [] as number[] },
      delete: { floor: [] as number[], project: [] as number[] },
    };
    const exCreate = (prefix: string) => (i: number) => ({ method: 'POST', path: '/create', body: JSON.stringify({ pool, name: `${prefix}-${i}`, size: 2 ** 30 }) });
    await eventLoopP99Ms(cr);
    for (let r = 0; r < rounds; r++) {
      log(`create/delete latency, round ${r + 1} of ${rounds}: floor, floor-bare, project`);
      samples.create.floor.push(...(await floorSamples(conf, 'create_describe', String(slice), pool, `fl1r${r}`)));
      samples.create['floor-bare'].push(...(await floorSamples(conf, 'create', String(slice), pool, `fb1r${r}`)));
      samples.create['floor-idle'].push(...(await floorSamplesWith(idleEnv(), conf, 'create_describe', String(slice), pool, `fi1r${r}`)));
      samples.create['express-ceph'].push(...(await httpSamples(expressCeph.base, slice, exCreate(`ex1r${r}`), (st) => st === 201)));
      samples.create.project.push(...(await httpSamples(cr.base, slice, fnCreate(`pj1r${r}`), (st) => st === 201)));
      samples.delete.floor.push(...(await floorSamples(conf, 'delete', String(slice), pool, `fl1r${r}`)));
      samples.delete.project.push(...(await httpSamples(de.base, slice, fnDelete(`pj1r${r}`), (st) => st === 200)));
    }
    log('create/delete throughput: floor, floor-bare, project');
    emit({
      op: 'create-image',
      system: 'floor',
      latency: summary(samples.create.floor),
      throughput: await floor('throughput', conf, 'create_describe', String(CONCURRENCY), '0', pool, 'fl32', String(m)),
    });
    emit({ op: 'delete-image', system: 'floor', latency: summary(samples.delete.floor), throughput: await floor('throughput', conf, 'delete', String(CONCURRENCY), '0', pool, 'fl32', String(m)) });
    emit({
      op: 'create-image',
      system: 'floor-bare',
      latency: summary(samples.create['floor-bare']),
      throughput: await floor('throughput', conf, 'create', String(CONCURRENCY), '0', pool, 'fb32', String(m)),
    });
    emit({ op: 'create-image', system: 'floor-idle', latency: summary(samples.create['floor-idle']), throughput: { skipped: 'latency only' } });
    emit({ op: 'create-image', system: 'express-ceph', latency: summary(samples.create['express-ceph']), throughput: { skipped: 'latency only' } });
    // These images go, unmeasured, so later operations find the pool as before.
    const extra = ['fb32', ...Array.from({ length: rounds }, (_, r) => [`fb1r${r}`, `fi1r${r}`, `ex1r${r}`]).flat()];
    for (const prefix of extra) await floor('purge', conf, pool, prefix);
    emit({ op: 'create-image', system: 'project', latency: summary(samples.create.project), throughput: await httpThroughput(cr.base, fnCreate('pj32'), { amount: m }) });
    emit({ op: 'delete-image', system: 'project', latency: summary(samples.delete.project), throughput: await httpThroughput(de.base, fnDelete('pj32'), { amount: m }) });
    emit({ op: 'create-image', system: 'project', metric: 'eventLoopP99Ms', value: await eventLoopP99Ms(cr) });
    const dCreate = (prefix: string) => (i: number) => ({
      method: 'POST',
      path: '/api/block/image',
      headers: dh(),
      body: JSON.stringify({ pool_name: pool, name: `${prefix}-${i}`, size: 2 ** 30 }),
    });
    const dDelete = (prefix: string) => (i: number) => ({ method: 'DELETE', path: `/api/block/image/${pool}%2F${prefix}-${i}`, headers: dh() });
    const dm = quick ? 16 : 64;
    await pair(
      'dashboard',
      { lat: () => httpLatency(dash, Math.min(lat, 20), dCreate('db1'), ok2xx), thr: () => httpThroughput(dash, dCreate('db32'), { amount: dm }, DASHBOARD_CONNECTIONS) },
      { lat: () => httpLatency(dash, Math.min(lat, 20), dDelete('db1'), ok2xx), thr: () => httpThroughput(dash, dDelete('db32'), { amount: dm }, DASHBOARD_CONNECTIONS) },
    );
    const cCreate = (prefix: string) => (i: number) => ['rbd', '-c', conf, 'create', '--size', '1G', `${pool}/${prefix}-${i}`];
    const cDelete = (prefix: string) => (i: number) => ['rbd', '-c', conf, 'rm', '--no-progress', `${pool}/${prefix}-${i}`];
    await pair(
      'cli',
      { lat: () => cliLatency(N.cli, cCreate('cl1')), thr: () => cliThroughput(cCreate('cl32'), { amount: dm }) },
      { lat: () => cliLatency(N.cli, cDelete('cl1')), thr: () => cliThroughput(cDelete('cl32'), { amount: dm }) },
    );
  }

  // the lifecycle: resize, snapshot create, clone, flatten, latency at 1 --------
  {
    const n = quick ? 6 : 30;
    const rounds = quick ? 1 : 3;
    const slice = Math.ceil(n / rounds);
    const WARM = 2;
    /**
     * A dashboard call taking over its task's wait (2-4 s) answers 202 with the
     * task's name and metadata, and the task runs on: the time is to its end,
     * and a task that failed fails the run.
     */
    const dashTaskDone = async (task: { name: string; metadata: unknown }) => {
      const same = (t: { metadata: unknown }) => JSON.stringify(t.metadata) === JSON.stringify(task.metadata);
      for (;;) {
        const tasks = (await fetch(`${dash}/api/task?name=${encodeURIComponent(task.name)}`, { headers: dh() }).then((r) => r.json())) as {
          executing_tasks: { metadata: unknown }[];
          finished_tasks: { metadata: unknown; success: boolean; exception?: unknown }[];
        };
        const finished = tasks.finished_tasks.find(same);
        if (finished && !finished.success) throw new Error(`dashboard task ${task.name} failed: ${JSON.stringify(finished.exception)}`);
        if (finished || !tasks.executing_tasks.some(same)) return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const dashCall = async (req: Req) => {
      const res = await fetch(`${dash}${req.path}`, { method: req.method, headers: { ...(req.body ? { 'content-type': 'application/json' } : {}), ...req.headers }, body: req.body });
      const body = await res.text();
      if (!ok2xx(res.status)) throw new Error(`dashboard ${req.path}: HTTP ${res.status} ${body}`);
      if (res.status === 202) await dashTaskDone(JSON.parse(body) as { name: string; metadata: unknown });
    };
    for (const life of LIFECYCLE) {
      const samples: Record<string, number[]> = { ...(life.floorOp && { floor: [] }), project: [], dashboard: [], cli: [] };
      for (let r = 0; r < rounds; r++) {
        log(`${life.op}, round ${r + 1} of ${rounds}: ${Object.keys(samples).join(', ')}`);
        const prefix = (system: string) => `${life.op}-${system}${r}`;
        // The first WARM of each system's calls are untimed, as the floor's own warm-ups are.
        for (const system of ['fl', 'pj', 'db', 'cl']) await life.prepare(prefix(system), slice + WARM);
        if (life.floorOp) samples.floor!.push(...(await floorSamples(conf, life.floorOp, String(slice), LIFE_POOL, prefix('fl'))));
        const fn = fns[life.fn]!;
        const timed = async (system: string, call: (name: string, i: number) => Promise<unknown>) => {
          for (let i = 0; i < slice + WARM; i++) {
            await life.before?.(prefix(system), i);
            const t = process.hrtime.bigint();
            await call(prefix(system), i);
            if (i >= WARM) samples[system === 'pj' ? 'project' : system === 'db' ? 'dashboard' : 'cli']!.push(Number(process.hrtime.bigint() - t) / 1000);
          }
        };
        await timed('pj', async (name, i) => {
          // 201 where the function makes something: a 200 would mean it was there already.
          const status = await request(fn.base, { method: 'POST', path: '/', body: JSON.stringify(life.project(name, i)) });
          if (status !== life.status) throw new Error(`${life.fn}: HTTP ${status}, not ${life.status}`);
        });
        await timed('db', (name, i) => dashCall({ ...life.dashboard(name, i), headers: dh() }));
        await timed('cl', (name, i) => cliOnce(['rbd', '-c', conf, ...life.cli(name, i)]));
      }
      for (const [system, values] of Object.entries(samples)) emit({ op: life.op, system, latency: summary(values), throughput: { skipped: 'latency only' } });
    }
  }

  // function process: cold start, RSS idle and loaded -------------------------
  {
    log('function process: memory');
    const fn = await startProcess(FUNCTION, ['list-pools']);
    const expressFresh = await startProcess(EXPRESS_FLOOR, [], '/');
    const expressCephFresh = await startProcess(EXPRESS_FLOOR, ['--ceph'], '/');
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const idle = rssKiB(fn);
    const idleExpress = rssKiB(expressFresh);
    const idleExpressCeph = rssKiB(expressCephFresh);
    const load = () => httpThroughput(fn.base, () => ({ method: 'GET', path: '/' }), { seconds: N.seconds });
    // Warm-up: under sustained load V8 grows its young generation to its
    // maximum and the old one to an equilibrium, which takes ~15 s here.
    for (let i = 0; i < (quick ? 1 : 3); i++) await load();
    const afterWarmup = rssKiB(fn);
    const samples: number[] = [];
    for (let round = 0; round < (quick ? 2 : 4); round++) {
      await load();
      samples.push(rssKiB(fn));
    }
    emit({ op: 'process', system: 'project', metric: 'rssKiB', idle, idleExpress, idleExpressCeph, afterWarmup, loaded: samples, growthAfterWarmup: samples.at(-1)! - afterWarmup });
    await stop(fn);
    await stop(expressFresh);
    await stop(expressCephFresh);
  }

  for (const proc of [...Object.values(fns), express, expressCeph]) await stop(proc);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
