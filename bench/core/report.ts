/**
 * Merges the JSON lines of floor.c and addon.ts runs into a markdown table and
 * a JSON summary. Samples of all turns of a tool are pooled before taking
 * percentiles; per-turn medians are kept to show drift, and the median of the
 * per-turn ratios (floor turn k vs. addon turn k, which run back to back) is a
 * drift-resistant second opinion on the p50 ratio.
 *
 *   node dist/bench/core/report.js --meta META --md OUT.md --json OUT.json RUN.jsonl...
 *
 * META holds key=value lines written by run.sh (date, nproc, memory, ...).
 */
import fs from 'node:fs';

const OPS = ['connect', 'list_pools', 'list_images', 'stat', 'create', 'remove', 'trash_move'];
const DESCRIPTION: Record<string, string> = {
  connect: 'create + conf + connect + shutdown',
  list_pools: 'mon command "osd pool ls detail" (the addon also parses its JSON)',
  list_images: 'rbd_list2 of 200 images',
  stat: 'open read-only + 8 getters + close',
  create: 'rbd_create4, 1 GiB, default features',
  remove: 'rbd_remove of a fresh 1 GiB image',
  trash_move: 'rbd_trash_move, delay 0',
};

interface RunLine {
  tool: string;
  round: number;
  op: string;
  iterations: number;
  warmup: number;
  samples_us: number[];
}

interface Stats {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
  /** Median of each turn, in order. */
  turnP50: number[];
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number {
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? NaN;
}

function stats(lines: RunLine[]): Stats {
  const all = lines.flatMap((l) => l.samples_us).sort((a, b) => a - b);
  const round1 = (x: number) => Math.round(x * 10) / 10;
  return {
    n: all.length,
    p50: round1(percentile(all, 50)),
    p90: round1(percentile(all, 90)),
    p99: round1(percentile(all, 99)),
    mean: round1(all.reduce((a, b) => a + b, 0) / (all.length || 1)),
    min: round1(all[0] ?? NaN),
    max: round1(all[all.length - 1] ?? NaN),
    turnP50: [...lines]
      .sort((a, b) => a.round - b.round)
      .map((l) => round1(percentile([...l.samples_us].sort((a, b) => a - b), 50))),
  };
}

function fmt(us: number): string {
  if (!Number.isFinite(us)) return 'n/a';
  if (us < 1000) return `${us.toFixed(us < 100 ? 1 : 0)} µs`;
  if (us < 1e6) return `${(us / 1000).toFixed(us < 1e4 ? 2 : 1)} ms`;
  return `${(us / 1e6).toFixed(2)} s`;
}

/** Middle value; the mean of the two middle ones for an even count. */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
const ratio = (addon: number, floor: number) => Math.round((addon / floor) * 100) / 100;
const fmtRatio = (r: number) => (Number.isFinite(r) ? `${r.toFixed(2)}x` : 'n/a');

function parseArgs(argv: string[]) {
  const out = { meta: '', md: '', json: '', inputs: [] as string[] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--meta' || a === '--md' || a === '--json') out[a.slice(2) as 'meta' | 'md' | 'json'] = argv[++i] ?? '';
    else out.inputs.push(a);
  }
  if (!out.md || !out.json || out.inputs.length === 0) {
    console.error('usage: report.js [--meta META] --md OUT.md --json OUT.json RUN.jsonl...');
    process.exit(2);
  }
  return out;
}

function readMeta(file: string): Record<string, string> {
  if (!file) return {};
  const meta: Record<string, string> = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) meta[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return meta;
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const meta = readMeta(args.meta);
  const lines: RunLine[] = args.inputs.flatMap((file) =>
    fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim().startsWith('{'))
      .map((l) => JSON.parse(l) as RunLine),
  );
  const pick = (tool: string, op: string) => lines.filter((l) => l.tool === tool && l.op === op);

  const rows = OPS.filter((op) => pick('floor', op).length && pick('addon', op).length).map((op) => {
    const floor = stats(pick('floor', op));
    const addon = stats(pick('addon', op));
    return {
      op,
      what: DESCRIPTION[op],
      iterationsPerRound: pick('floor', op)[0]!.iterations,
      warmupPerRound: pick('floor', op)[0]!.warmup,
      floor,
      addon,
      ratio: {
        p50: ratio(addon.p50, floor.p50),
        p90: ratio(addon.p90, floor.p90),
        p99: ratio(addon.p99, floor.p99),
        mean: ratio(addon.mean, floor.mean),
      },
      overheadP50Us: Math.round((addon.p50 - floor.p50) * 10) / 10,
      pairedRatioP50: ratio(median(addon.turnP50.map((a, k) => a / (floor.turnP50[k] ?? NaN))), 1),
    };
  });

  const md: string[] = [];
  md.push('# Core operations: addon vs. floor (librados/librbd from C)', '');
  md.push(
    'Each operation through the TypeScript `CephClient` (validation, N-API, libuv thread pool, promise) ' +
      'against the same librados/librbd calls made by a small C program (`bench/core/floor.c`), on one ' +
      'throwaway single-node cluster (1 mon + 1 memstore OSD, `scripts/sandbox-cluster.sh`), sequentially ' +
      '(concurrency 1), one long-lived connection per turn (connect aside). Ratio = addon / floor. Generated by `npm run bench:core`.',
    '',
  );
  md.push('| op | floor p50 | addon p50 | ratio p50 | floor p99 | addon p99 | ratio p99 |');
  md.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    md.push(
      `| ${r.op} | ${fmt(r.floor.p50)} | ${fmt(r.addon.p50)} | ${fmtRatio(r.ratio.p50)} | ` +
        `${fmt(r.floor.p99)} | ${fmt(r.addon.p99)} | ${fmtRatio(r.ratio.p99)} |`,
    );
  }
  md.push('', '## Details', '');
  md.push(
    '| op | what is timed | samples (floor / addon) | floor mean | addon mean | addon − floor p50 | turn-paired ratio p50 | floor p50 per turn | addon p50 per turn |',
  );
  md.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |');
  for (const r of rows) {
    md.push(
      `| ${r.op} | ${r.what} | ${r.floor.n} / ${r.addon.n} | ${fmt(r.floor.mean)} | ${fmt(r.addon.mean)} | ` +
        `${r.overheadP50Us >= 0 ? '+' : '−'}${fmt(Math.abs(r.overheadP50Us))} | ${fmtRatio(r.pairedRatioP50)} | ` +
        `${r.floor.turnP50.map(fmt).join(', ')} | ${r.addon.turnP50.map(fmt).join(', ')} |`,
    );
  }
  md.push('', '## Setup', '');
  const metaRows: [string, string | undefined][] = [
    ['date (UTC)', meta.date],
    ['mode', meta.mode],
    ['run order', meta.order],
    ['iterations', meta.iterations],
    ['warm-up', 'the first max(5, min(25, N/20)) runs of each op in each turn are done but not recorded'],
    ['nproc', meta.nproc],
    ['CPU', meta.cpu],
    ['memory', meta.memory],
    ['Ceph', meta.ceph],
    ['Node.js', meta.node],
    ['load average before / after', meta.load_before && `${meta.load_before} / ${meta.load_after ?? '?'}`],
    ['other Ceph daemons on the machine', meta.other_daemons],
    ['wall time', meta.wall_seconds && `${meta.wall_seconds} s`],
  ];
  for (const [k, v] of metaRows) if (v) md.push(`- ${k}: ${v}`);
  md.push(
    '',
    'Percentiles are nearest-rank over the samples of all turns of a tool pooled together. ' +
      'For each op the tools take turns (floor addon addon floor addon floor floor addon in a full run), each turn a fresh process with ' +
      'one long-lived connection, so drift on a shared machine hits both alike. ' +
      'Images: create/remove/trash_move in pool `rbd` (names `<tool>-r<round>-<kind>-<n>`, same length for both tools); ' +
      'list_images and stat on a dedicated pool `bench-list` pre-filled with 200 images `list-000`..`list-199`. ' +
      'The trash is purged (untimed) after every trash_move turn.',
    '',
  );

  fs.writeFileSync(args.md, md.join('\n'));
  fs.writeFileSync(args.json, JSON.stringify({ meta, results: rows }, null, 2) + '\n');
  process.stdout.write(md.join('\n'));
}

main();
