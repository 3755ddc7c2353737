/**
 * The results of a run as JSON and markdown, each figure beside its baseline
 * from the same run, with issue 14's targets marked met or not; and
 * docs/benchmarks.md, made from the committed bench/results/*.json and the
 * hand-written bench/analysis.md.
 *
 *   node dist/bench/report.js          # regenerates docs/benchmarks.md (npm run bench:docs)
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Result } from './lib';

export interface Run {
  meta: Record<string, string | number | string[]>;
  results: Result[];
}
const root = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../..' : '..');

const LABEL: Record<string, string> = {
  floor: 'floor (C, librbd)',
  'floor-idle': 'floor as a server runs it (idle a bare express round trip before each call, on a second thread)',
  'floor-bare': 'floor, rbd_create4 alone (no read-back)',
  addon: 'the addon, called from Node in the driver',
  project: '**this project** (a function process over HTTP)',
  express: 'bare express, constant JSON',
  'express-ceph': 'bare express over the addon',
  dashboard: 'Ceph dashboard API',
  cli: 'rbd / ceph CLI',
};
const SYSTEMS = Object.keys(LABEL);

export function time(us: number | undefined): string {
  if (us === undefined || !Number.isFinite(us)) return '—';
  if (us >= 1e6) return `${(us / 1e6).toFixed(2)} s`;
  if (us >= 1000) return `${(us / 1000).toFixed(us >= 1e5 ? 0 : 2)} ms`;
  return `${Math.round(us)} µs`;
}
const rate = (x: number | undefined) => (x === undefined ? '—' : x >= 100 ? x.toFixed(0) : x.toFixed(1));
function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || !b) return '—';
  const r = a / b;
  return r >= 100 ? `${r.toFixed(0)}x` : `${r.toFixed(2)}x`;
}
const mb = (kib: number | undefined) => (kib === undefined ? '—' : `${((kib * 1024) / 1e6).toFixed(1)} MB`);
const row = (cells: unknown[]) => `| ${cells.join(' | ')} |`;
const table = (head: string[], align: string[], rows: unknown[][]) => [row(head), row(align), ...rows.map(row), ''];

/** The markdown of one run; `level` is its top heading's. */
export function render({ meta, results }: Run, level = 1): string {
  const h = (n: number, title: string) => `${'#'.repeat(level + n)} ${title}`;
  const of = (scenario: string) => results.filter((r) => r.scenario === scenario);
  const find = (op: string, system: string) => results.find((r) => r.op === op && r.system === system && r.latency && r.scenario !== 'addon');
  const p50 = (op: string, system: string) => find(op, system)?.latency?.p50_us;
  const rps = (op: string, system: string) => find(op, system)?.throughput?.per_second;
  const metric = (name: string, system: string, op = 'process') => results.find((r) => r.metric === name && r.system === system && r.op === op);
  const value = (name: string, system: string, op?: string) => metric(name, system, op)?.value;
  const ops = [...new Set(results.filter((r) => r.latency && r.scenario !== 'addon').map((r) => r.op))];
  const seconds = Object.entries(meta).filter(([k]) => k.startsWith('seconds_')).map(([k, v]) => `${k.slice(8)} ${v} s`);
  const md = [
    h(0, `Benchmark results: ${meta.set} (${meta.mode})`),
    '',
    `${meta.date} UTC; ${meta.nproc} vCPUs (${meta.cpu}), ${meta.memory}; ${meta.ceph}; Node.js ${meta.node}; git ${meta.git}. ` +
      `One sandbox cluster (1 mon, 1 memstore OSD; a mgr with the dashboard where a scenario compares with it) on loopback. ` +
      `Load ${meta.load_before} before, ${meta.load_after} after; ${meta.wall_seconds} s in all (${seconds.join(', ')}).`,
    '',
  ];

  if (ops.length) {
    md.push(h(1, 'Side by side: floor, the addon, this project, the dashboard, the CLI'), '');
    md.push('p50 at concurrency 1 (ratio to the floor); ops/s at concurrency 32 (the dashboard 10 connections, detail pages 8 at a time).', '');
    const cell = (op: string, system: string) => {
      const v = p50(op, system);
      return v === undefined ? '—' : system === 'floor' || !p50(op, 'floor') ? time(v) : `${time(v)} (${ratio(v, p50(op, 'floor'))})`;
    };
    md.push(
      ...table(
        ['operation', 'floor (C)', 'floor idle between calls', 'addon', '**this project**', 'Ceph dashboard', 'rbd / ceph CLI', 'ops/s at 32: floor / project / dashboard / CLI'],
        ['---', '---:', '---:', '---:', '---:', '---:', '---:', '---'],
        ops.map((op) => [op, ...['floor', 'floor-idle', 'addon', 'project', 'dashboard', 'cli'].map((s) => cell(op, s)),
          find(op, 'project')?.throughput?.skipped ? 'latency only' : ['floor', 'project', 'dashboard', 'cli'].map((s) => rate(rps(op, s))).join(' / ')]),
      ),
    );
    const beside: string[] = [];
    if (p50('list-pools', 'express')) {
      beside.push(`list-pools by bare express answering constant JSON: ${time(p50('list-pools', 'express'))} p50, ${rate(rps('list-pools', 'express'))} ops/s at 32; ` +
        `by bare express over the addon: ${time(p50('list-pools', 'express-ceph'))}, ${rate(rps('list-pools', 'express-ceph'))} ops/s.`);
    }
    for (const op of ops.filter((o) => o.startsWith('list-images bench'))) {
      const page = find(op, 'express') as (Result & { bytes?: number }) | undefined;
      if (page) beside.push(`${op}: the function's page (${((page.bytes ?? 0) / 1024).toFixed(0)} KiB) as constant bytes by bare express ${time(page.latency?.p50_us)}; bare express over the addon making list-images' call ${time(p50(op, 'express-ceph'))}.`);
    }
    if (p50('create-image', 'express-ceph')) beside.push(`create-image by bare express over the addon: ${time(p50('create-image', 'express-ceph'))}; rbd_create4 alone (the floor without the read-back): ${time(p50('create-image', 'floor-bare'))}.`);
    for (const op of ops) {
      const el = value('eventLoopP99Ms', 'project', op);
      if (el !== undefined) beside.push(`${op}: event-loop delay p99 in the function process during its runs ${el.toFixed(1)} ms.`);
      const dash = find(op, 'dashboard') as (Result & { pages?: number; pagesTimed?: number }) | undefined;
      if (dash?.pages && dash.pagesTimed! < dash.pages) beside.push(`${op}: the dashboard lists in pages of 100 and stats every image; ${dash.pagesTimed} of its ${dash.pages} pages were timed and scaled to all.`);
    }
    md.push(...beside.map((b) => `- ${b}`), '');
    md.push(h(2, 'Every system, p50 and p99'), '');
    const rows = ops.flatMap((op) =>
      SYSTEMS.map((system) => find(op, system)).filter((r): r is Result => !!r).map((r) => {
        const note = r.throughput?.skipped ? ` (${r.throughput.skipped})` : r.throughput?.non2xx || r.throughput?.errors ? ` (${r.throughput.non2xx ?? 0} non-2xx, ${r.throughput.errors ?? 0} errors)` : '';
        const label = r.bytes ? `bare express, the function's page as constant JSON` : LABEL[r.system];
        return [r.op, label, time(r.latency!.p50_us), time(r.latency!.p99_us), ratio(r.latency!.p50_us, p50(r.op, 'floor')), ratio(r.latency!.p50_us, p50(r.op, 'project')), `${rate(r.throughput?.per_second)}${note}`, ratio(r.throughput?.per_second, rps(r.op, 'floor')), ratio(r.throughput?.per_second, rps(r.op, 'project'))];
      }),
    );
    md.push(...table(['operation', 'system', 'p50', 'p99', 'p50 / floor', 'p50 / project', 'ops/s at 32', 'vs floor', 'vs project'], ['---', '---', '---:', '---:', '---:', '---:', '---:', '---:', '---:'], rows));
  }

  const cold = metric('coldStartMs', 'project');
  const idle = metric('idleRssKiB', 'project');
  const loaded = metric('loadedRssKiB', 'project') as (Result & { afterWarmup: number; loaded: number[] }) | undefined;
  if (cold || idle) {
    md.push(h(1, 'A function process (list-pools)'), '');
    const coldCell = (s: string) => (metric('coldStartMs', s) ? `${value('coldStartMs', s)!.toFixed(0)} ms / ${Number(metric('coldStartMs', s)!.max).toFixed(0)} ms` : '—');
    md.push(
      ...table(['measure', 'this project', 'bare express over the addon', 'bare express'], ['---', '---:', '---:', '---:'], [
        ['cold start: spawn to the first 200 (cluster up), p50 / max', coldCell('project'), coldCell('express-ceph'), '—'],
        ['idle RSS, 2 s after the first 200', mb(value('idleRssKiB', 'project')), mb(value('idleRssKiB', 'express-ceph')), mb(value('idleRssKiB', 'express'))],
        ...(loaded ? [['RSS after the warm-up loads at 32', mb(loaded.afterWarmup), '—', '—'], ['RSS after each further load at 32', loaded.loaded.map(mb).join(', '), '—', '—']] : []),
      ]),
    );
  }

  const core = of('addon').filter((r) => r.latency);
  if (core.length) {
    md.push(h(1, 'The addon against the floor'), '');
    md.push(`Each operation through CephClient and through floor.c, sequentially, on one connection per turn (connect aside), taking turns (${meta.mode === 'full' ? 'floor addon addon floor addon floor floor addon' : 'floor, addon'}). Ratio = addon / floor; the turn-paired ratio is the median of each turn's.`, '');
    const rows = [...new Set(core.map((r) => r.op))].map((op) => {
      const [f, a] = ['floor', 'addon'].map((s) => core.find((r) => r.op === op && r.system === s)!.latency!);
      const paired = a!.turns && f!.turns ? [...a!.turns.map((x, k) => x / f!.turns![k]!)].sort((x, y) => x - y) : [];
      return [op, time(f!.p50_us), time(a!.p50_us), ratio(a!.p50_us, f!.p50_us), time(f!.p99_us), time(a!.p99_us), ratio(a!.p99_us, f!.p99_us), paired.length ? `${paired[paired.length >> 1]!.toFixed(2)}x` : '—', `${f!.n} / ${a!.n}`];
    });
    md.push(...table(['op', 'floor p50', 'addon p50', 'ratio p50', 'floor p99', 'addon p99', 'ratio p99', 'turn-paired p50', 'samples'], ['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:'], rows));
  }

  const queue = of('async-queue');
  if (queue.length) {
    md.push(h(1, 'The async queue'), '');
    md.push('Calls completed per second through the local gateway with RBD_ASYNC_CONCURRENCY=8, submission to the last callback (receiver on loopback), against the same calls made synchronously by 8 concurrent clients; turns sync, async, async, sync; medians.', '');
    const rows = [...new Set(queue.map((r) => r.op))].map((op) => {
      const [s, a] = ['sync', 'async'].map((m) => queue.find((r) => r.op === op && r.system === m)!);
      return [op, s!.calls, rate(s!.value), rate(a!.value), ratio(a!.value, s!.value), [...new Set((a!.statuses as object[]).flatMap((x) => Object.keys(x)))].join(', ')];
    });
    md.push(...table(['op', 'calls a turn', 'sync, 8 clients (calls/s)', 'async, concurrency 8 (calls/s)', 'async / sync', 'statuses'], ['---', '---:', '---:', '---:', '---:', '---'], rows));
  }

  const containers = of('container-start');
  if (containers.length) {
    md.push(h(1, 'Container start'), '');
    md.push('The list-pools image against `node -e http.createServer(...)` in node:20-bookworm-slim, started the same way (host network, read-only root, tmpfs /tmp, uid 1000); medians of alternating starts after one warm-up each.', '');
    const c = (name: string, system: string) => containers.find((r) => r.metric === name && r.system === system)?.value;
    const sizes = containers.filter((r) => r.metric === 'bytesOverBase').map((r) => `${r.system} +${r.value} bytes`);
    md.push(
      ...table(['measure', 'floor', 'list-pools', 'ratio'], ['---', '---:', '---:', '---:'], [
        ['`run` to the first 200 (list-pools: GET / connects to Ceph and lists pools)', `${c('first200Ms', 'floor')} ms`, `${c('first200Ms', 'list-pools')} ms`, ratio(c('first200Ms', 'list-pools'), c('first200Ms', 'floor'))],
        ['idle RSS of the main process, 3 s after the first 200', mb(c('idleRssKiB', 'floor')), mb(c('idleRssKiB', 'list-pools')), ratio(c('idleRssKiB', 'list-pools'), c('idleRssKiB', 'floor'))],
        ['image size', `${mb(c('bytes', 'node')! / 1024)} (node:20-bookworm-slim)`, `${mb(c('bytes', 'base')! / 1024)} (the base; each function adds: ${sizes.join(', ')})`, ratio(c('bytes', 'base'), c('bytes', 'node'))],
      ]),
    );
  }

  const targets = issue14Targets(results, ops, p50, rps, value);
  if (targets.length) {
    md.push(h(1, "Issue 14's targets"), '');
    md.push(...table(['target', 'measured', 'met'], ['---', '---:', ':---:'], targets.map((t) => [t.target, t.value, t.met === undefined ? '—' : t.met ? 'yes' : '**no**'])));
  }
  return md.join('\n');
}

type Target = { target: string; value: string; met: boolean | undefined };
function issue14Targets(results: Result[], ops: string[], p50: (op: string, s: string) => number | undefined, rps: (op: string, s: string) => number | undefined, value: (name: string, s: string, op?: string) => number | undefined): Target[] {
  const targets: Target[] = [];
  const both = (a: number | undefined, b: number | undefined, test: (a: number, b: number) => boolean) => (a === undefined || b === undefined ? undefined : test(a, b));
  /** Project p50 against the floor's, with the floor idle between calls and bare express over the addon beside it. */
  const vsFloor = (op: string, x: number, extra = '') => {
    const [p, f, idle, ex] = [p50(op, 'project'), p50(op, 'floor'), p50(op, 'floor-idle'), p50(op, 'express-ceph')];
    const notes = [idle && `${ratio(p, idle)} of the floor idle between calls`, ex && `bare express over the addon ${ratio(ex, f)}`, extra].filter(Boolean);
    targets.push({ target: `${op} p50 ≤ ${x}× the floor`, value: `${ratio(p, f)}${notes.length ? ` (${notes.join('; ')})` : ''}`, met: both(p, f, (a, b) => a <= x * b) });
  };
  const belowDashboard = (op: string) => {
    const [p, d] = [p50(op, 'project'), p50(op, 'dashboard')];
    targets.push({ target: `${op} p50 below the dashboard's`, value: `${time(p)} vs ${time(d)}`, met: both(p, d, (a, b) => a < b) });
  };
  if (ops.includes('list-pools')) {
    vsFloor('list-pools', 1.5);
    belowDashboard('list-pools');
    const [tp, td, te] = [rps('list-pools', 'project'), rps('list-pools', 'dashboard'), rps('list-pools', 'express')];
    targets.push({ target: "list-pools throughput at 32 ≥ 15× the dashboard's", value: `${ratio(tp, td)} (bare express: ${ratio(te, td)})`, met: both(tp, td, (a, b) => a >= 15 * b) });
    targets.push({ target: 'list-pools throughput at 32 ≥ 90% of bare express', value: tp && te ? `${((100 * tp) / te).toFixed(0)}%` : '—', met: both(tp, te, (a, b) => a >= 0.9 * b) });
  }
  for (const [op, x] of [['list-images bench-1k', 1.5], ['list-images bench-10k', 1.3]] as const) {
    if (!ops.includes(op)) continue;
    // Listing in memory (the floor) against listing and sending the page: the
    // page's bytes over bare express are the part no function can skip.
    const [idle, sent] = [p50(op, 'floor-idle'), p50(op, 'express')];
    vsFloor(op, x, idle && sent ? `the floor idle between calls + the same page sent by bare express ${ratio(idle + sent, p50(op, 'floor'))}` : '');
  }
  const listing = ['list-images bench-10k', 'list-images bench-1k'].find((op) => ops.includes(op));
  if (listing) {
    const el = value('eventLoopP99Ms', 'project', listing);
    targets.push({ target: `event-loop delay p99 < 50 ms while 32 clients run ${listing}`, value: el === undefined ? '—' : `${el.toFixed(1)} ms`, met: el === undefined ? undefined : el < 50 });
  }
  if (ops.includes('list-images detail 100')) vsFloor('list-images detail 100', 1.1);
  for (const op of ['create-image', 'delete-image'].filter((o) => ops.includes(o))) {
    vsFloor(op, 1.15);
    const [p, d, c] = [p50(op, 'project'), p50(op, 'dashboard'), p50(op, 'cli')];
    targets.push({ target: `${op} p50 below the dashboard's and the CLI's`, value: `${time(p)} vs ${time(d)} / ${time(c)}`, met: both(p, d, (a, b) => a < b && a < (c ?? Infinity)) });
  }
  for (const op of ['resize-image', 'create-snapshot', 'clone-image', 'flatten-image'].filter((o) => ops.includes(o))) vsFloor(op, 1.2);
  for (const op of ops.filter((o) => results.some((r) => r.scenario === 'lifecycle' && r.op === o))) belowDashboard(op);
  const cold = value('coldStartMs', 'project');
  if (cold !== undefined) targets.push({ target: 'cold start to the first 200 < 300 ms (p50)', value: `${cold.toFixed(0)} ms (bare express over the addon: ${value('coldStartMs', 'express-ceph')?.toFixed(0)} ms)`, met: cold < 300 });
  const idle = value('idleRssKiB', 'project');
  if (idle !== undefined) targets.push({ target: 'idle RSS < 70 MB', value: `${mb(idle)} (bare express over the addon: ${mb(value('idleRssKiB', 'express-ceph'))})`, met: (idle * 1024) / 1e6 < 70 });
  const loaded = results.find((r) => r.metric === 'loadedRssKiB') as (Result & { afterWarmup: number; growthAfterWarmup: number }) | undefined;
  if (loaded) {
    const growth = (100 * loaded.growthAfterWarmup) / loaded.afterWarmup;
    targets.push({ target: 'no RSS growth under load after warm-up (last load within 5% of the warm-up)', value: `${growth >= 0 ? '+' : ''}${growth.toFixed(1)}%`, met: growth <= 5 });
  }
  return targets;
}

/** Writes OUT/SET.json and OUT/SET.md; returns the JSON's path. */
export function writeResults(out: string, set: string, run: Run): string {
  fs.mkdirSync(out, { recursive: true });
  const file = path.join(out, `${set}.json`);
  fs.writeFileSync(file, `${JSON.stringify(run, null, 1)}\n`);
  fs.writeFileSync(path.join(out, `${set}.md`), `${render(run)}\n`);
  return file;
}

/** docs/benchmarks.md as the committed results and bench/analysis.md make it. */
export function benchmarksDoc(): string {
  const dir = path.join(root, 'bench/results');
  const runs = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Run);
  return [
    '# Benchmarks',
    '',
    '<!-- Generated by `npm run bench:docs` (bench/report.ts) from bench/results/*.json and bench/analysis.md: edit those, not this file. -->',
    '',
    '`npm run bench` boots one sandbox cluster (with a mgr and the dashboard), runs every scenario and writes bench/results/all.json (and .md), then this page; ' +
      '`npm run bench -- SCENARIO ...` runs some (`npm run bench -- --help` lists them), `--quick` is the CI smoke run. Every figure stands beside a baseline measured in the same run.',
    '',
    ...runs.map((run) => render(run, 2)),
    fs.readFileSync(path.join(root, 'bench/analysis.md'), 'utf8').trimEnd(),
    '',
  ].join('\n');
}
export function writeDocs(): string {
  const file = path.join(root, 'docs/benchmarks.md');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, benchmarksDoc());
  return file;
}

if (require.main === module) process.stdout.write(`wrote ${writeDocs()}\n`);
