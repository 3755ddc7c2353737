/**
 * The driver of the gateway benchmark: each function through the local
 * gateway over HTTP (keep-alive, one socket, node:http) next to the same work
 * through the addon alone (CephClient in this process), one request at a time.
 *
 *   node dist/bench/gateway/bench.js prefill POOL COUNT
 *   node dist/bench/gateway/bench.js run --url URL --gateway-pid PID [--pool rbd]
 *        [--list-pool bench-list] [--iterations SPEC] [--order "addon gateway ..."]
 *        [--bare-turns N]
 *
 * prefill creates COUNT images list-000.. in POOL (untimed set-up).
 *
 * run prints JSON lines on stdout (progress on stderr):
 *   {"kind":"run","tool":"gateway","op":"list-pools","round":1,"iterations":..,"warmup":..,"samples_us":[..]}
 *   {"kind":"rss","at":"ready"|"warm"|"end","rss_kb":..,"hwm_kb":..}
 *   {"kind":"http",...}   sockets opened, requests, retries
 *   {"kind":"metrics",...} the gateway's own request and Ceph-call means, from /metrics
 *
 * Tools: "addon" (CephClient here) and "gateway" (the gateway process), plus
 * two references. "addon-paced" (list-pools, list-images, create-image and
 * delete-image) is the addon with 1 ms of idle time (untimed) before each
 * call: a call that follows the previous one back to back finds librados's,
 * the OSD's and the monitor's threads still awake, which the gateway's calls,
 * spaced by HTTP work, never do. "http" (list-pools only) is
 * bench/gateway/http-floor.ts, a bare node:http server answering the
 * gateway's own list-pools JSON, no express, no Ceph: the cost of one HTTP
 * round trip on this machine.
 *
 * Connection settings for the addon come from loadCephConfig() (CEPH_CONF,
 * CEPH_KEYRING, ...), the same the gateway gets. Set UV_THREADPOOL_SIZE=16 as
 * the gateway does, or the detail page's 16 stats queue behind 4 threads.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { CephClient, type ImageRef } from '../../shared/ceph/client';
import { loadCephConfig } from '../../shared/config';

const IMAGE_SIZE = 2 ** 30; // "1Gi" in the gateway's requests
const LIST_IMAGES = 200;
const DETAIL_LIMIT = 100;
/** As functions/list-images/handler.ts. */
const STAT_CONCURRENCY = 16;

type Tool = 'addon' | 'addon-paced' | 'gateway' | 'http';
/** Idle time before each call of the addon-paced tool, in ms. */
const PACE_MS = 1;
const OPS = ['list-pools', 'list-images', 'list-images-detail', 'create-image', 'delete-image', 'create-image-bare'] as const;
type Op = (typeof OPS)[number];
/** Ops that are measured in their own turns; delete-image rides with create-image. */
type TurnOp = Exclude<Op, 'delete-image'>;

const DEFAULT_ITERATIONS: Record<TurnOp, number> = {
  'list-pools': 1000,
  'list-images': 250,
  'list-images-detail': 20,
  'create-image': 50,
  'create-image-bare': 50,
};

/**
 * As bench/core: discard the first N/20 runs of a turn, at least 5, at most
 * 25; but only 2 detail pages (~0.3 s each; both sides are warm already).
 */
export function warmupFor(op: Op, n: number): number {
  if (op === 'list-images-detail') return 2;
  return Math.min(25, Math.max(5, Math.floor(n / 20)));
}

const nowUs = (): number => Number(process.hrtime.bigint()) / 1000;
const log = (msg: string) => process.stderr.write(`[bench:gateway] ${msg}\n`);
const emit = (line: object) => process.stdout.write(JSON.stringify(line) + '\n');

function parseIterations(spec: string | undefined): Record<TurnOp, number> {
  const out = { ...DEFAULT_ITERATIONS };
  for (const part of (spec ?? '').split(',').filter(Boolean)) {
    const [op, n] = part.split('=');
    if (!(op! in out) || !Number.isSafeInteger(Number(n)) || Number(n) < 1) throw new Error(`bad iterations entry "${part}"`);
    out[op as TurnOp] = Number(n);
  }
  return out;
}

function readRss(pid: number): { rss_kb: number; hwm_kb: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss_kb: field('VmRSS'), hwm_kb: field('VmHWM') };
}

// ---- HTTP: one keep-alive socket per server, node:http ----

interface Reply {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

class HttpClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  readonly counts = { requests: 0, socketsOpened: 0, retries: 0 };
  /** Whether the last request opened a new TCP connection. */
  lastOpened = false;

  constructor(private readonly base: URL) {}

  /** One request; the body is read to the end and parsed, as any caller would. */
  async send(method: string, path: string, json?: unknown): Promise<Reply> {
    try {
      return await this.once(method, path, json);
    } catch (err) {
      // A kept-alive socket the server closed just as we reused it: retry once, counted.
      if ((err as { reused?: boolean }).reused && (err as NodeJS.ErrnoException).code === 'ECONNRESET') {
        this.counts.retries++;
        return this.once(method, path, json);
      }
      throw err;
    }
  }

  private once(method: string, path: string, json?: unknown): Promise<Reply> {
    const payload = json === undefined ? undefined : JSON.stringify(json);
    const headers: http.OutgoingHttpHeaders = { accept: 'application/json' };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    this.counts.requests++;
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host: this.base.hostname, port: this.base.port, method, path, headers, agent: this.agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            try {
              resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
            } catch (err) {
              reject(new Error(`${method} ${path}: ${res.statusCode} with a body that is not JSON: ${text.slice(0, 200)} (${err})`));
            }
          });
        },
      );
      req.on('socket', () => {
        this.lastOpened = !req.reusedSocket;
        if (this.lastOpened) this.counts.socketsOpened++;
      });
      req.on('error', (err) => reject(Object.assign(err, { reused: req.reusedSocket })));
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function expect(reply: Reply, status: number, what: string): Reply {
  if (reply.status !== status) throw new Error(`${what}: HTTP ${reply.status}, expected ${status}: ${JSON.stringify(reply.body).slice(0, 300)}`);
  return reply;
}

/** The HTTP floor: a bare node:http server in its own process; it exits when its stdin closes. */
async function startHttpFloor(body: string): Promise<{ child: ChildProcess; url: URL }> {
  const child = spawn(process.execPath, [path.join(__dirname, 'http-floor.js')], {
    env: { ...process.env, BENCH_FLOOR_BODY: body },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /^port=(\d+)$/m.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`http-floor exited with ${code} before listening`)));
  });
  return { child, url: new URL(`http://127.0.0.1:${port}`) };
}

// ---- the work each tool does per iteration ----

interface Ctx {
  client: CephClient;
  gateway: HttpClient;
  floor?: HttpClient;
  pool: string;
  listPool: string;
}

const byName = (a: ImageRef, b: ImageRef) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** What list-images?detail=true&limit=100 does with Ceph: list, sort, first page, 16 stats at a time. */
async function detailPage(client: CephClient, pool: string) {
  const page = (await client.listImages(pool)).sort(byName).slice(0, DETAIL_LIMIT);
  const infos = new Array(page.length);
  let next = 0;
  const worker = async () => {
    while (next < page.length) {
      const i = next++;
      infos[i] = await client.statImage({ pool, name: page[i]!.name });
    }
  };
  await Promise.all(Array.from({ length: Math.min(STAT_CONCURRENCY, page.length) }, worker));
  return infos;
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`check failed: ${what}`);
}

/** One iteration of op by tool; name is the image for create/delete. */
async function step(ctx: Ctx, tool: Tool, op: Op, name: string): Promise<void> {
  const { client, gateway, pool, listPool } = ctx;
  const q = encodeURIComponent;
  if (tool === 'addon' || tool === 'addon-paced') {
    switch (op) {
      case 'list-pools':
        return check((await client.listPools()).length >= 2, 'listPools');
      case 'list-images':
        return check((await client.listImages(listPool)).length === LIST_IMAGES, 'listImages');
      case 'list-images-detail':
        return check((await detailPage(client, listPool)).length === DETAIL_LIMIT, 'detail page');
      case 'create-image':
        return check((await client.createImageDescribed({ pool, name }, IMAGE_SIZE)).size === IMAGE_SIZE, 'createImageDescribed');
      case 'create-image-bare':
        return client.createImage({ pool, name }, IMAGE_SIZE);
      case 'delete-image':
        return client.removeImage({ pool, name });
    }
  }
  const http = tool === 'gateway' ? gateway : ctx.floor!;
  switch (op) {
    case 'list-pools': {
      const r = expect(await http.send('GET', '/function/list-pools'), 200, 'list-pools');
      return check(r.body.items.length >= 2, 'list-pools items');
    }
    case 'list-images': {
      const r = expect(await http.send('GET', `/function/list-images?pool=${q(listPool)}`), 200, 'list-images');
      return check(r.body.items.length === LIST_IMAGES, 'list-images items');
    }
    case 'list-images-detail': {
      const r = expect(await http.send('GET', `/function/list-images?pool=${q(listPool)}&detail=true&limit=${DETAIL_LIMIT}`), 200, 'list-images detail');
      return check(r.body.items.length === DETAIL_LIMIT && r.body.items[0].size === IMAGE_SIZE, 'list-images detail items');
    }
    case 'create-image': {
      const r = expect(await http.send('POST', '/function/create-image', { pool, name, size: '1Gi' }), 201, 'create-image');
      return check(r.body.name === name && r.body.size === IMAGE_SIZE && typeof r.body.id === 'string', 'create-image body');
    }
    case 'delete-image':
      expect(await http.send('DELETE', `/function/delete-image?pool=${q(pool)}&name=${q(name)}`), 200, 'delete-image');
      return;
    case 'create-image-bare':
      throw new Error('create-image-bare is addon-only');
  }
}

interface Timed {
  samples: number[];
  /** Iterations whose request had to open a new TCP connection. */
  opened: number[];
}

/** Runs fn `total` times in a row, after pauseMs of idle time each (untimed); each time in µs. */
async function timed(total: number, fn: (i: number) => Promise<void>, http?: HttpClient, pauseMs = 0): Promise<Timed> {
  const samples = new Array<number>(total);
  const opened: number[] = [];
  for (let i = 0; i < total; i++) {
    if (pauseMs) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    const t0 = nowUs();
    await fn(i);
    samples[i] = nowUs() - t0;
    if (http?.lastOpened) opened.push(i);
  }
  return { samples, opened };
}

const r1 = (x: number) => Math.round(x * 10) / 10;

/**
 * Emits a turn's samples minus its warm-up. The gateway closes a connection
 * idle for 5 s, so after a long addon turn the first request reopens it:
 * connects_in_warmup / connects_measured count those.
 */
function report(tool: Tool, op: Op, round: number, warmup: number, { samples, opened }: Timed): void {
  const kept = samples.slice(warmup);
  const sorted = [...kept].sort((a, b) => a - b);
  const connects = { connects_in_warmup: opened.filter((i) => i < warmup).length, connects_measured: opened.filter((i) => i >= warmup).length };
  emit({ kind: 'run', tool, op, round, iterations: kept.length, warmup, ...connects, samples_us: kept.map(r1) });
  log(`${tool.padEnd(11)} round ${round} ${op}: p50 ${r1(sorted[Math.ceil(sorted.length / 2) - 1] ?? NaN)} µs`);
}

/** Image names of equal length for every tool: <a|p|g|b>-r<round>-<n>. */
const imageName = (tool: Tool | 'bare', round: number, i: number) =>
  `${tool === 'bare' ? 'b' : tool === 'addon-paced' ? 'p' : tool[0]}-r${round}-${String(i).padStart(5, '0')}`;

async function assertPoolEmpty(ctx: Ctx, when: string): Promise<void> {
  const left = await ctx.client.listImages(ctx.pool);
  if (left.length) throw new Error(`${left.length} images left in pool ${ctx.pool} ${when} (${left.slice(0, 3).map((i) => i.name).join(', ')}...)`);
}

async function turn(ctx: Ctx, tool: Tool, op: TurnOp, round: number, n: number): Promise<void> {
  const w = warmupFor(op, n);
  const total = n + w;
  const pause = tool === 'addon-paced' ? PACE_MS : 0;
  if (op === 'create-image' || op === 'create-image-bare') {
    await assertPoolEmpty(ctx, `before ${tool} round ${round} of ${op}`);
    const names = Array.from({ length: total }, (_, i) => imageName(op === 'create-image' ? tool : 'bare', round, i));
    const http = tool === 'gateway' ? ctx.gateway : undefined;
    report(tool, op, round, w, await timed(total, (i) => step(ctx, tool, op, names[i]!), http, pause));
    if (op === 'create-image') {
      report(tool, 'delete-image', round, w, await timed(total, (i) => step(ctx, tool, 'delete-image', names[i]!), http, pause));
    } else {
      for (const name of names) await ctx.client.removeImage({ pool: ctx.pool, name }); // untimed clean-up
    }
    await assertPoolEmpty(ctx, `after ${tool} round ${round} of ${op}`);
    return;
  }
  const http = tool === 'gateway' ? ctx.gateway : tool === 'http' ? ctx.floor : undefined;
  report(tool, op, round, w, await timed(total, () => step(ctx, tool, op, ''), http, pause));
}

/** Untimed: a few of everything through both tools, so both sides are warm before the first turn. */
async function warmUp(ctx: Ctx): Promise<void> {
  for (const tool of ['addon', 'gateway'] as const) {
    for (let i = 0; i < 50; i++) await step(ctx, tool, 'list-pools', '');
    for (let i = 0; i < 20; i++) await step(ctx, tool, 'list-images', '');
    for (let i = 0; i < 3; i++) await step(ctx, tool, 'list-images-detail', '');
    const names = Array.from({ length: 5 }, (_, i) => `${tool[0]}-warm-${i}`);
    for (const name of names) await step(ctx, tool, 'create-image', name);
    for (const name of names) await step(ctx, tool, 'delete-image', name);
  }
  await assertPoolEmpty(ctx, 'after the warm-up');
}

/** Means from the gateway's own Prometheus histograms (warm-up requests and health checks included). */
async function gatewayMetrics(url: URL): Promise<object> {
  const text = await new Promise<string>((resolve, reject) => {
    http.get(new URL('/metrics', url), (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve(body)).on('error', reject);
    }).on('error', reject);
  });
  const collect = (metric: string, label: string) => {
    const out: Record<string, { count: number; mean_us: number }> = {};
    const sums: Record<string, number> = {};
    for (const m of text.matchAll(new RegExp(`^${metric}_(sum|count)\\{([^}]*)\\} (\\S+)$`, 'gm'))) {
      const key = new RegExp(`${label}="([^"]*)"`).exec(m[2]!)?.[1];
      if (!key || (label === 'op' && !m[2]!.includes('outcome="ok"'))) continue;
      if (m[1] === 'sum') sums[key] = Number(m[3]);
      else out[key] = { count: Number(m[3]), mean_us: 0 };
    }
    for (const [key, v] of Object.entries(out)) v.mean_us = r1(((sums[key] ?? NaN) / v.count) * 1e6);
    return out;
  };
  return {
    kind: 'metrics',
    functions: collect('rbd_function_request_duration_seconds', 'function'),
    ceph: collect('rbd_ceph_operation_duration_seconds', 'op'),
  };
}

function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]!;
    if (!key.startsWith('--') || argv[i + 1] === undefined) throw new Error(`bad argument ${key}`);
    out[key.slice(2)] = argv[i + 1]!;
  }
  return out;
}

async function prefill(pool: string, count: number): Promise<void> {
  const client = await CephClient.connect(loadCephConfig());
  try {
    let next = 0;
    const worker = async () => {
      while (next < count) await client.createImage({ pool, name: `list-${String(next++).padStart(3, '0')}` }, IMAGE_SIZE);
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const n = (await client.listImages(pool)).length;
    if (n !== count) throw new Error(`${pool} holds ${n} images after pre-fill, expected ${count}`);
  } finally {
    await client.close();
  }
}

async function run(args: Record<string, string>): Promise<void> {
  const url = new URL(args.url ?? '');
  const gatewayPid = Number(args['gateway-pid']);
  if (!Number.isSafeInteger(gatewayPid)) throw new Error('--gateway-pid is required');
  const iterations = parseIterations(args.iterations);
  const order = (args.order ?? 'addon gateway gateway addon gateway addon addon gateway').split(/\s+/) as Tool[];
  for (const t of order) if (t !== 'addon' && t !== 'gateway') throw new Error(`--order takes addon and gateway, not ${t}`);
  const bareTurns = Number(args['bare-turns'] ?? 2);

  emit({ kind: 'rss', at: 'ready', ...readRss(gatewayPid) });
  const ctx: Ctx = {
    client: await CephClient.connect(loadCephConfig()),
    gateway: new HttpClient(url),
    pool: args.pool ?? 'rbd',
    listPool: args['list-pool'] ?? 'bench-list',
  };
  let floor: { child: ChildProcess; url: URL } | undefined;
  try {
    log('warm-up (untimed): 50 list-pools, 20 list-images, 3 detail pages, 5 creates and deletes per tool');
    await warmUp(ctx);
    emit({ kind: 'rss', at: 'warm', ...readRss(gatewayPid) });

    // The floor answers exactly what the gateway answers for list-pools.
    const poolsBody = await new Promise<string>((resolve, reject) => {
      http.get(new URL('/function/list-pools', url), (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve(body)).on('error', reject);
      }).on('error', reject);
    });
    floor = await startHttpFloor(poolsBody);
    ctx.floor = new HttpClient(floor.url);
    for (let i = 0; i < 50; i++) await step(ctx, 'http', 'list-pools', '');

    for (const op of ['list-pools', 'list-images', 'list-images-detail', 'create-image'] as const) {
      const rounds: Partial<Record<Tool, number>> = {};
      // list-pools: the HTTP floor takes a turn right after each gateway turn.
      // The references take a turn right after their counterpart's (none
      // for the detail page: 1 ms is lost in its ~0.2 s).
      const after: Partial<Record<Tool, Tool>> = op === 'list-images-detail' ? {} : { addon: 'addon-paced' };
      if (op === 'list-pools') after.gateway = 'http';
      const tools = order.flatMap((t) => (after[t] ? [t, after[t]!] : [t]));
      for (const tool of tools) {
        const round = (rounds[tool] = (rounds[tool] ?? 0) + 1);
        await turn(ctx, tool, op, round, iterations[op]);
      }
    }
    for (let round = 1; round <= bareTurns; round++) await turn(ctx, 'addon', 'create-image-bare', round, iterations['create-image-bare']);

    emit({ kind: 'rss', at: 'end', ...readRss(gatewayPid) });
    emit(await gatewayMetrics(url));
    emit({ kind: 'http', gateway: ctx.gateway.counts, floor: ctx.floor.counts });
  } finally {
    ctx.gateway.close();
    ctx.floor?.close();
    floor?.child.stdin!.end();
    await ctx.client.close();
  }
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'prefill') return prefill(rest[0] ?? 'bench-list', Number(rest[1] ?? LIST_IMAGES));
  if (command === 'run') return run(parseArgs(rest));
  console.error('usage: bench.js prefill POOL COUNT | bench.js run --url URL --gateway-pid PID [...]');
  process.exit(2);
}

main().catch((err) => {
  console.error('bench:gateway:', err);
  process.exit(1);
});
