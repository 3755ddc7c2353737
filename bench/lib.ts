/**
 * What every scenario uses: the systems behind one interface (a Way to make a
 * call: the C floor, HTTP, a CLI process, the addon in this process), timed
 * at concurrency 1 (latency) or under load (throughput), and the processes
 * the scenarios start (function processes, the express floors, the gateway).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import type { CephClient } from '../shared/ceph/client';

export const exec = promisify(execFile);
export const root = path.resolve(__dirname, '../..');
export const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

/** One measurement: a latency summary, a throughput, or a named metric, of one system doing one op. */
export interface Measurement {
  op: string;
  system: string;
  latency?: Summary;
  throughput?: Throughput;
  metric?: string;
  value?: number;
  [more: string]: unknown;
}
export type Result = Measurement & { scenario: string };
export interface Summary {
  n: number;
  p50_us: number;
  p99_us: number;
  mean_us: number;
  /** p50 of each turn, where systems took turns. */
  turns?: number[];
}
export interface Throughput {
  per_second?: number;
  skipped?: string;
  non2xx?: number;
  errors?: number;
  [more: string]: unknown;
}

/** What a scenario gets from the driver. */
export interface Context {
  quick: boolean;
  conf: string;
  /** This run's directory, removed at its end. */
  work: string;
  /** The addon in this process, connected to the sandbox (UV_THREADPOOL_SIZE=16, as a function's). */
  addon: CephClient;
  dashboard?: { url: string; headers: (version?: string) => Record<string, string> };
  emit: (measurement: Measurement) => void;
}

export interface Scenario {
  name: string;
  /** Pools to fill with images img-0.. before the run, by name: how many. */
  pools?: Record<string, number>;
  dashboard?: boolean;
  run: (ctx: Context) => Promise<void>;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1] ?? NaN;
}
export function summary(samples: number[], turns?: number[][]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  const r1 = (x: number) => Math.round(x * 10) / 10;
  const turnP50 = turns?.map((t) => r1(percentile([...t].sort((a, b) => a - b), 50)));
  return { n: s.length, p50_us: r1(percentile(s, 50)), p99_us: r1(percentile(s, 99)), mean_us: r1(s.reduce((a, b) => a + b, 0) / s.length), ...(turnP50 && { turns: turnP50 }) };
}
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
/** As floor.c: the first N/20 calls of a turn are untimed, at least 5, at most 25. */
export const warmupFor = (n: number) => Math.min(25, Math.max(5, Math.floor(n / 20)));
const sinceUs = (t: bigint) => Number(process.hrtime.bigint() - t) / 1000;
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface Req {
  method: string;
  path: string;
  body?: string;
  headers?: Record<string, string>;
}
/**
 * A way to make one call, whichever system makes it. floor: floor.c's OP and
 * ARGS (env: its idle gap and hand-off); http: a request on a kept-alive
 * socket, which must answer `ok`; cli: one process per call; call: a call in
 * this process (the addon's, or a dashboard call that waits for its task).
 */
export type Way =
  | { floor: string[]; env?: Record<string, string>; concurrency?: number }
  | { base: string; req: (i: number) => Req; ok?: (status: number) => boolean; connections?: number }
  | { cli: (i: number) => string[]; width?: number }
  | { call: (i: number) => Promise<unknown> };

export const ok2xx = (status: number) => status >= 200 && status < 300;
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const headersOf = (req: Req) => ({ ...(req.body ? { 'content-type': 'application/json' } : {}), ...req.headers });
/** One HTTP request; resolves the status and the body. */
export function request(base: string, req: Req): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const r = http.request(`${base}${req.path}`, { method: req.method, agent, headers: headersOf(req) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
    });
    r.on('error', reject);
    r.end(req.body);
  });
}

let floorPath = '';
let conf = '';
export function useFloor(path: string, cephConf: string): void {
  [floorPath, conf] = [path, cephConf];
}
/** floor.c MODE ARGS; its one JSON line. */
export async function floor(mode: string, args: string[], env: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const { stdout } = await exec(floorPath, [mode, conf, ...args], { maxBuffer: 64 << 20, env: { ...process.env, ...env } });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

/** Makes PREFIX-0 .. PREFIX-(count-1) in pool (1 GiB each), 16 at a time on the floor's one connection, or removes them. */
export async function fill(pool: string, prefix: string, count: number, op: 'create' | 'delete' = 'create'): Promise<void> {
  const out = await floor('throughput', [op, '16', '0', pool, prefix, String(count)]);
  if (out.errors || out.ops !== count) throw new Error(`floor ${op} of ${prefix}-0..${count - 1} in ${pool}: ${out.ops} done, ${out.errors} errors`);
}

/** The i-th call of a way that is not the floor (which times its own). */
async function once(way: Exclude<Way, { floor: string[] }>, i: number): Promise<void> {
  if ('base' in way) {
    const { status, body } = await request(way.base, way.req(i));
    if (!(way.ok ?? ok2xx)(status)) throw new Error(`${way.base}${way.req(i).path}: HTTP ${status} ${body.slice(0, 200)}`);
  } else if ('cli' in way) {
    const [cmd, ...args] = way.cli(i);
    await exec(cmd!, args, { maxBuffer: 64 << 20 });
  } else {
    await way.call(i);
  }
}

/** n calls one at a time: each one's time in µs. */
export async function latency(way: Way, n: number): Promise<number[]> {
  if ('floor' in way) {
    const [op, ...args] = way.floor;
    return (await floor('latency', [op!, String(n), ...args], way.env)).samples_us as number[];
  }
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await once(way, i);
    samples.push(sinceUs(t));
  }
  return samples;
}

/** The addon's turn: warm-ups as floor.c's (calls with i < 0), then n timed calls. */
export async function addonLatency(call: (i: number) => Promise<unknown>, n: number): Promise<number[]> {
  for (let i = 0; i < warmupFor(n); i++) await call(-1 - i);
  return latency({ call }, n);
}

export const CONCURRENCY = 32;
/** Calls at concurrency 32 (or the way's own) for `seconds`, or until `amount` are done. */
export async function throughput(way: Way, limit: { seconds?: number; amount?: number }): Promise<Throughput> {
  if ('floor' in way) {
    const [op, ...args] = way.floor;
    const width = String(way.concurrency ?? CONCURRENCY);
    return floor('throughput', [op!, width, String(limit.seconds ?? 0), ...args, ...(limit.amount ? [String(limit.amount)] : [])], way.env);
  }
  const started = process.hrtime.bigint();
  if ('base' in way) {
    let i = 0;
    const result = await autocannon({
      url: way.base,
      connections: way.connections ?? CONCURRENCY,
      ...(limit.amount ? { amount: limit.amount } : { duration: limit.seconds }),
      requests: [
        {
          setupRequest: (req) => {
            const r = way.req(i++);
            return { ...req, method: r.method as 'GET', path: r.path, body: r.body, headers: headersOf(r) };
          },
        },
      ],
    });
    const seconds = sinceUs(started) / 1e6;
    const done = result.requests.total;
    return { per_second: limit.amount ? done / seconds : result.requests.average, ops: done, seconds, connections: way.connections ?? CONCURRENCY, non2xx: result.non2xx, errors: result.errors + result.timeouts };
  }
  if (!('cli' in way)) throw new Error('in-process calls are measured at concurrency 1 only');
  let i = 0;
  let done = 0;
  const deadline = limit.seconds ? Date.now() + limit.seconds * 1000 : Infinity;
  const width = way.width ?? CONCURRENCY;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (Date.now() < deadline && (!limit.amount || i < limit.amount)) {
        await once(way, i++);
        done++;
      }
    }),
  );
  const seconds = sinceUs(started) / 1e6;
  return { per_second: done / seconds, ops: done, seconds, connections: width, non2xx: 0, errors: 0 };
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface Proc {
  child: ChildProcess;
  base: string;
  /** Spawn to the first 200 on its ready path, in ms. */
  coldMs: number;
}
/** What a function's image runs (Dockerfile.base): the bundle, not dist/shared. */
export const FUNCTION = 'dist/bundle/function.js';
/** Bundled the same way (main.ts), so that module loading costs both the same. */
export const EXPRESS_FLOOR = 'dist/bench/bundle/express-floor.js';
export const GATEWAY = 'dist/shared/local/main.js';
const running = new Set<ChildProcess>();

/** Starts a Node process on a free port and times it to its first 200 on `readyPath`. */
export async function start(script: string, argv: string[], readyPath = '/_/ready', env: Record<string, string> = {}): Promise<Proc> {
  const port = await freePort();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rbd-bench-proc-'));
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [path.join(root, script), ...argv], {
    env: { ...process.env, PORT: String(port), TMPDIR: tmp, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', fs.openSync(path.join(tmp, 'out.log'), 'a'), 'inherit'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  const base = `http://127.0.0.1:${port}`;
  for (;;) {
    if ((await request(base, { method: 'GET', path: readyPath }).catch(() => ({ status: 0 }))).status === 200) break;
    if (child.exitCode !== null) throw new Error(`${script} ${argv.join(' ')} exited with ${child.exitCode}`);
    if (sinceUs(started) > 30e6) throw new Error(`${script}: no 200 within 30 s`);
    await sleep(2);
  }
  return { child, base, coldMs: sinceUs(started) / 1000 };
}
/** SIGTERM, and its exit status (a function drains and exits 0). */
export function stop(proc: Proc): Promise<number | null> {
  return new Promise((resolve) => {
    if (proc.child.exitCode !== null) return resolve(proc.child.exitCode);
    proc.child.once('exit', (code) => resolve(code));
    proc.child.kill('SIGTERM');
  });
}
export function stopAll(): void {
  for (const child of running) child.kill('SIGTERM');
}
export function rssKiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}
/** The function's own event-loop delay p99 since the last read (reading resets it). */
export async function eventLoopP99Ms(proc: Proc): Promise<number> {
  const { body } = await request(proc.base, { method: 'GET', path: '/metrics' });
  return Number(/^nodejs_eventloop_lag_p99_seconds (\S+)/m.exec(body)![1]) * 1000;
}

const services = new Map<string, Promise<Proc>>();
/**
 * A process kept for the whole run, started on first use: a function process
 * by its name, or an express floor ('express': constant JSON; 'express-ceph':
 * over the addon, bench/express-floor.ts).
 */
export function service(name: string): Promise<Proc> {
  if (!services.has(name)) {
    services.set(name, name === 'express' ? start(EXPRESS_FLOOR, [], '/') : name === 'express-ceph' ? start(EXPRESS_FLOOR, ['--ceph'], '/') : start(FUNCTION, [name]));
  }
  return services.get(name)!;
}
export async function stopServices(): Promise<void> {
  for (const proc of services.values()) await stop(await proc);
  services.clear();
}

let idleGapUs: number | undefined;
/** The idle gap is a bare express round trip measured in this run (list-pools sets it first). */
export function setIdleGap(us: number): void {
  idleGapUs = us;
}
/**
 * The floor as a server runs it: each call on a second thread, after an idle
 * pause as long as a bare express round trip (a function's Ceph threads sleep
 * between requests at concurrency 1, and wake for each).
 */
export async function idleFloorEnv(): Promise<Record<string, string>> {
  if (idleGapUs === undefined) {
    const express = await service('express');
    setIdleGap(summary(await latency({ base: express.base, req: () => ({ method: 'GET', path: '/' }) }, 100)).p50_us);
  }
  return { FLOOR_GAP_US: String(Math.round(idleGapUs!)), FLOOR_HANDOFF: '1' };
}
