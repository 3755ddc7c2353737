/**
 * Turns bench/compare/bench.ts's JSON lines into the markdown table (each
 * figure with its ratio to the floor and to this project) and a JSON summary,
 * with each issue-6 target marked met or missed.
 *
 *   node dist/bench/compare/report.js --meta META --md OUT.md --json OUT.json RUNS.jsonl
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  options: { meta: { type: 'string' }, md: { type: 'string' }, json: { type: 'string' } },
  allowPositionals: true,
});

interface Latency {
  p50_us: number;
  p99_us: number;
}
interface Throughput {
  per_second?: number;
  skipped?: string;
  non2xx?: number;
  errors?: number;
}
interface Run {
  op: string;
  system: string;
  latency?: Latency;
  throughput?: Throughput;
  metric?: string;
  value?: number;
  [key: string]: unknown;
}

const meta = Object.fromEntries(
  fs
    .readFileSync(values.meta!, 'utf8')
    .trim()
    .split('\n')
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
);
const runs: Run[] = positionals.flatMap((file) =>
  fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Run),
);

const SYSTEMS = ['floor', 'floor-idle', 'floor-bare', 'project', 'express', 'express-ceph', 'dashboard', 'cli'];
const LABEL: Record<string, string> = {
  floor: 'floor (C, librbd)',
  'floor-idle': 'floor as a server runs it (idle a bare express round trip before each call, on a second thread)',
  'floor-bare': 'floor, rbd_create4 alone (no read-back)',
  project: '**this project**',
  express: 'bare express, constant JSON',
  'express-ceph': 'bare express over the addon',
  dashboard: 'Ceph dashboard API',
  cli: 'rbd / ceph CLI',
};

/** A row's label; a page sent by bare express says how large it was. */
function label(r: Run & { bytes?: number }): string {
  return r.bytes ? `bare express, the function's page (${(r.bytes / 1024).toFixed(0)} KiB) as constant JSON` : LABEL[r.system]!;
}

function time(us: number | undefined): string {
  if (us === undefined) return '—';
  if (us >= 1e6) return `${(us / 1e6).toFixed(2)} s`;
  if (us >= 1000) return `${(us / 1000).toFixed(us >= 1e5 ? 0 : 2)} ms`;
  return `${Math.round(us)} µs`;
}
function rate(x: number | undefined): string {
  if (x === undefined) return '—';
  return x >= 100 ? x.toFixed(0) : x.toFixed(1);
}
function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || b === 0) return '—';
  const r = a / b;
  return r >= 100 ? `${r.toFixed(0)}x` : `${r.toFixed(2)}x`;
}

const find = (op: string, system: string) => runs.find((r) => r.op === op && r.system === system && (r.latency || r.throughput));
const metric = (op: string, name: string) => runs.find((r) => r.op === op && r.metric === name);

const ops = [...new Set(runs.filter((r) => r.latency || r.throughput).map((r) => r.op))];
const lines: string[] = [];
lines.push(`# Side by side: floor, this project, the Ceph dashboard and the CLI (${meta.mode})`, '');
lines.push(
  `${meta.date} UTC; ${meta.nproc} vCPUs (${meta.cpu}), ${meta.memory}; ${meta.ceph}; Node.js ${meta.node}; git ${meta.git}. ` +
    `One sandbox cluster (1 mon, 1 memstore OSD, 1 mgr with the dashboard) on loopback, shared by all. Load ${meta.load_before} before, ${meta.load_after} after; ${meta.wall_seconds} s in all.`,
  '',
  'Latency: p50 and p99 at concurrency 1 (HTTP on a kept-alive socket; the CLI spawns one process per operation). ' +
    'Throughput: operations per second at concurrency 32 (autocannon for HTTP, 32 threads on one connection for the floor, 32 processes at a time for the CLI). ' +
    'Ratios: a time against the floor\'s or this project\'s time (>1 is slower), a throughput against theirs (>1 is more).',
  '',
);
const summaryRows: Record<string, unknown>[] = [];
for (const op of ops) {
  lines.push(`## ${op}`, '');
  lines.push('| system | p50 | p99 | p50 / floor | p50 / project | ops/s at 32 | vs floor | vs project |');
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  const floor = find(op, 'floor');
  const project = find(op, 'project');
  for (const system of SYSTEMS) {
    const r = find(op, system);
    if (!r) continue;
    const thr = r.throughput?.per_second;
    const note = r.throughput?.skipped ? ` (${r.throughput.skipped})` : r.throughput?.non2xx || r.throughput?.errors ? ` (${r.throughput.non2xx ?? 0} non-2xx, ${r.throughput.errors ?? 0} errors)` : '';
    lines.push(
      `| ${label(r)} | ${time(r.latency?.p50_us)} | ${time(r.latency?.p99_us)} | ${ratio(r.latency?.p50_us, floor?.latency?.p50_us)} | ${ratio(r.latency?.p50_us, project?.latency?.p50_us)} | ${rate(thr)}${note} | ${ratio(thr, floor?.throughput?.per_second)} | ${ratio(thr, project?.throughput?.per_second)} |`,
    );
    summaryRows.push({ op, system, p50_us: r.latency?.p50_us, p99_us: r.latency?.p99_us, per_second: thr, throughput: r.throughput });
  }
  const dashRun = find(op, 'dashboard') as (Run & { pages?: number; pagesTimed?: number }) | undefined;
  if (dashRun?.pages && dashRun.pagesTimed && dashRun.pagesTimed < dashRun.pages) {
    lines.push('', `The dashboard lists in pages of 100 and stats every image: ${dashRun.pagesTimed} of its ${dashRun.pages} pages were timed and the time scaled to all ${dashRun.pages}.`);
  }
  const el = metric(op, 'eventLoopP99Ms');
  if (el) lines.push('', `Event-loop delay p99 in the function process during its runs: ${el.value!.toFixed(1)} ms.`);
  lines.push('');
}

const cold = runs.find((r) => r.metric === 'coldStartMs' && r.system === 'project') as (Run & { p50: number; max: number }) | undefined;
const coldFloor = runs.find((r) => r.metric === 'coldStartMs' && r.system === 'express-ceph') as (Run & { p50: number; max: number }) | undefined;
const rss = runs.find((r) => r.metric === 'rssKiB') as
  | (Run & { idle: number; idleExpress: number; idleExpressCeph?: number; afterWarmup: number; loaded: number[]; growthAfterWarmup: number })
  | undefined;
const mb = (kib: number) => `${((kib * 1024) / 1e6).toFixed(1)} MB`;
if (cold && rss) {
  lines.push('## A function process (list-pools)', '');
  lines.push('| measure | this project | bare express over the addon | bare express |', '| --- | ---: | ---: | ---: |');
  lines.push(
    `| cold start: spawn to the first 200 (cluster up), p50 / max | ${cold.p50.toFixed(0)} ms / ${cold.max.toFixed(0)} ms | ` +
      `${coldFloor ? `${coldFloor.p50.toFixed(0)} ms / ${coldFloor.max.toFixed(0)} ms` : '—'} | — |`,
  );
  lines.push(`| idle RSS, 2 s after the first 200 | ${mb(rss.idle)} | ${rss.idleExpressCeph ? mb(rss.idleExpressCeph) : '—'} | ${mb(rss.idleExpress)} |`);
  lines.push(`| RSS after the warm-up loads at 32 (3 × the throughput run) | ${mb(rss.afterWarmup)} | — | — |`);
  lines.push(`| RSS after each further load at 32 | ${rss.loaded.map(mb).join(', ')} | — | — |`);
  lines.push('');
}

// ---- targets ----
type Target = { target: string; value: string; met: boolean | undefined };
const targets: Target[] = [];
const get = (op: string, system: string) => find(op, system);
const p50 = (op: string, system: string) => get(op, system)?.latency?.p50_us;
/** "1.23x", and beside it the ratio to the floor as a server runs it, where measured. */
const vsFloor = (op: string) => {
  const idle = p50(op, 'floor-idle');
  return `${ratio(p50(op, 'project'), p50(op, 'floor'))}${idle ? ` (${ratio(p50(op, 'project'), idle)} of the floor idle between calls)` : ''}`;
};
const atMost = (op: string, x: number) => {
  const p = p50(op, 'project');
  const f = p50(op, 'floor');
  return p !== undefined && f !== undefined ? p <= x * f : undefined;
};
{
  const op = 'list-pools';
  targets.push({ target: 'list-pools p50 at concurrency 1 ≤ 1.5× the floor', value: vsFloor(op), met: atMost(op, 1.5) });
  const [p, d] = [p50(op, 'project'), p50(op, 'dashboard')];
  targets.push({ target: "list-pools p50 below the dashboard's", value: `${time(p)} vs ${time(d)}`, met: p !== undefined && d !== undefined ? p < d : undefined });
  const tp = get(op, 'project')?.throughput?.per_second;
  const td = get(op, 'dashboard')?.throughput?.per_second;
  const te = get(op, 'express')?.throughput?.per_second;
  targets.push({
    target: "list-pools throughput at 32 ≥ 15× the dashboard's",
    value: `${ratio(tp, td)}${te && td ? ` (bare express: ${ratio(te, td)})` : ''}`,
    met: tp !== undefined && td !== undefined ? tp >= 15 * td : undefined,
  });
  targets.push({ target: 'list-pools throughput at 32 ≥ 90% of bare express', value: te && tp ? `${((100 * tp) / te).toFixed(0)}%` : '—', met: tp !== undefined && te !== undefined ? tp >= 0.9 * te : undefined });
}
for (const [op, x] of [['list-images bench-1k', 1.5], ['list-images bench-10k', 1.3]] as const) {
  if (!ops.includes(op)) continue;
  // Listing in memory (the floor) against listing and sending the page: the
  // page's bytes over bare express are the part no function can skip.
  const [idle, sent] = [p50(op, 'floor-idle'), p50(op, 'express')];
  const ex = p50(op, 'express-ceph');
  const bound =
    (idle && sent ? `; the floor idle between calls + the same page sent by bare express: ${ratio(idle + sent, p50(op, 'floor'))}` : '') +
    (ex ? `; bare express over the addon: ${ratio(ex, p50(op, 'floor'))}` : '');
  targets.push({ target: `${op}, names: p50 ≤ ${x}× the floor`, value: `${vsFloor(op)}${bound}`, met: atMost(op, x) });
}
{
  const op = ops.includes('list-images bench-10k') ? 'list-images bench-10k' : 'list-images bench-1k';
  const el = metric(op, 'eventLoopP99Ms')?.value;
  targets.push({ target: `event-loop delay p99 < 50 ms while 32 clients run ${op}`, value: el === undefined ? '—' : `${el.toFixed(1)} ms`, met: el === undefined ? undefined : el < 50 });
  const dp = p50(op, 'dashboard');
  const pp = p50(op, 'project');
  targets.push({ target: `${op}, names: ≥ 10× faster than the dashboard in pages`, value: ratio(dp, pp), met: pp !== undefined && dp !== undefined ? dp >= 10 * pp : undefined });
}
{
  const op = 'list-images detail 100';
  if (ops.includes(op)) targets.push({ target: `${op}: p50 ≤ 1.1× the floor`, value: vsFloor(op), met: atMost(op, 1.1) });
}
for (const op of ['create-image', 'delete-image']) {
  const p = p50(op, 'project');
  const f = p50(op, 'floor');
  const bare = p50(op, 'floor-bare');
  // What any HTTP service would pay at best: the floor plus one bare express round trip.
  const rtt = p50('list-pools', 'express');
  const idle = p50(op, 'floor-idle');
  const ex = p50(op, 'express-ceph');
  const notes = [
    bare ? `${ratio(p, bare)} of rbd_create4 alone` : '',
    rtt && f ? `floor + a bare express round trip: ${ratio(f + rtt, f)}` : '',
    idle ? `${ratio(p, idle)} of the floor idle between calls` : '',
    ex ? `bare express over the addon: ${ratio(ex, f)}` : '',
  ].filter(Boolean);
  targets.push({ target: `${op} p50 ≤ 1.15× the floor`, value: `${ratio(p, f)}${notes.length ? ` (${notes.join('; ')})` : ''}`, met: atMost(op, 1.15) });
  const [d, c] = [p50(op, 'dashboard'), p50(op, 'cli')];
  targets.push({
    target: `${op} p50 below the dashboard's and the CLI's`,
    value: `${time(p)} vs ${time(d)} / ${time(c)}`,
    met: p !== undefined && d !== undefined && c !== undefined ? p < d && p < c : undefined,
  });
}
for (const op of ['resize-image', 'create-snapshot', 'clone-image', 'flatten-image']) {
  const p = p50(op, 'project');
  const f = p50(op, 'floor');
  const d = p50(op, 'dashboard');
  if (p === undefined) continue;
  targets.push({ target: `${op} p50 ≤ 1.2× the floor`, value: ratio(p, f), met: atMost(op, 1.2) });
  targets.push({ target: `${op} p50 below the dashboard's`, value: `${time(p)} vs ${time(d)}`, met: d !== undefined ? p < d : undefined });
}
for (const op of ['get-image', 'list-snapshots', 'delete-snapshot', 'rollback-image', 'list-trash', 'restore-image', 'purge-trash']) {
  const [p, d] = [p50(op, 'project'), p50(op, 'dashboard')];
  if (p === undefined) continue;
  targets.push({ target: `${op} p50 below the dashboard's`, value: `${time(p)} vs ${time(d)}`, met: d !== undefined ? p < d : undefined });
}
if (cold) {
  const value = `${cold.p50.toFixed(0)} ms${coldFloor ? ` (bare express over the addon: ${coldFloor.p50.toFixed(0)} ms)` : ''}`;
  targets.push({ target: 'cold start to the first 200 < 300 ms (p50)', value, met: cold.p50 < 300 });
}
if (rss) {
  const value = `${mb(rss.idle)}${rss.idleExpressCeph ? ` (bare express over the addon: ${mb(rss.idleExpressCeph)})` : ''}`;
  targets.push({ target: 'idle RSS < 70 MB', value, met: (rss.idle * 1024) / 1e6 < 70 });
  const last = rss.loaded.at(-1)!;
  targets.push({
    target: 'no RSS growth under load after warm-up (last load within 5% of the warm-up)',
    value: `${rss.growthAfterWarmup >= 0 ? '+' : ''}${((100 * rss.growthAfterWarmup) / rss.afterWarmup).toFixed(1)}%`,
    met: last <= rss.afterWarmup * 1.05,
  });
}
lines.push('## Targets', '', '| target | measured | met |', '| --- | ---: | :---: |');
for (const t of targets) lines.push(`| ${t.target} | ${t.value} | ${t.met === undefined ? '—' : t.met ? 'yes' : '**no**'} |`);
lines.push('', 'What bounds the figures that miss or sit at the line, as profiled: README.md, "Benchmarks", "Side by side".', '');

fs.writeFileSync(values.md!, lines.join('\n'));
fs.writeFileSync(values.json!, `${JSON.stringify({ meta, rows: summaryRows, cold, rss, targets, runs }, null, 1)}\n`);
process.stdout.write(lines.join('\n'));
