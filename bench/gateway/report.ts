/**
 * Turns the JSON lines of bench/gateway/bench.ts into a markdown table and a
 * JSON summary. Samples of all turns of a tool are pooled before taking
 * percentiles; per-turn medians are kept to show drift, and the median of the
 * per-turn ratios (addon turn k vs. gateway turn k) is a drift-resistant
 * second opinion on the p50 ratio.
 *
 *   node dist/bench/gateway/report.js --meta META --md OUT.md --json OUT.json RUNS.jsonl...
 *
 * META holds key=value lines written by run.sh (date, nproc, memory, ...).
 */
import fs from 'node:fs';

interface Row {
  fn: string;
  /** What the gateway request is. */
  gateway: string;
  /** What the addon does for it. */
  addon: string;
  gatewayOp: string;
  addonOp: string;
  addonTool?: string;
  reference?: boolean;
}

const ROWS: Row[] = [
  { fn: 'list-pools', gateway: 'GET /function/list-pools', addon: 'listPools()', gatewayOp: 'list-pools', addonOp: 'list-pools' },
  {
    fn: 'list-images',
    gateway: 'GET /function/list-images?pool=bench-list (200 images, sorted by the function)',
    addon: 'listImages(bench-list) (no sort)',
    gatewayOp: 'list-images',
    addonOp: 'list-images',
  },
  {
    fn: 'list-images detail',
    gateway: 'GET /function/list-images?pool=bench-list&detail=true&limit=100',
    addon: 'listImages + sort + first 100 × statImage, 16 at a time',
    gatewayOp: 'list-images-detail',
    addonOp: 'list-images-detail',
  },
  {
    fn: 'create-image',
    gateway: 'POST /function/create-image {"pool":"rbd","name":…,"size":"1Gi"} → 201',
    addon: 'createImageDescribed(1 GiB): create, then read back its id and header',
    gatewayOp: 'create-image',
    addonOp: 'create-image',
  },
  {
    fn: 'delete-image',
    gateway: 'DELETE /function/delete-image?pool=rbd&name=… → 200',
    addon: 'removeImage',
    gatewayOp: 'delete-image',
    addonOp: 'delete-image',
  },
  ...(['list-pools', 'list-images', 'create-image', 'delete-image'] as const).map((op) => ({
    fn: `${op} vs paced addon`,
    gateway: 'as above',
    addon: 'as above, after 1 ms of idle time (untimed) before each call, as the gateway\'s calls are spaced by HTTP work',
    gatewayOp: op,
    addonOp: op,
    addonTool: 'addon-paced',
    reference: true,
  })),
  {
    fn: 'create-image vs bare createImage',
    gateway: 'POST /function/create-image (as above)',
    addon: 'createImage(1 GiB) alone, separate turns',
    gatewayOp: 'create-image',
    addonOp: 'create-image-bare',
    reference: true,
  },
  {
    fn: 'list-pools vs HTTP floor',
    gateway: 'GET /function/list-pools (as above)',
    addon: 'bare node:http server answering the same JSON: no express, no Ceph',
    gatewayOp: 'list-pools',
    addonOp: 'list-pools',
    addonTool: 'http',
    reference: true,
  },
];

interface RunLine {
  kind: 'run';
  tool: string;
  round: number;
  op: string;
  iterations: number;
  warmup: number;
  connects_in_warmup?: number;
  connects_measured?: number;
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
  turnP50: number[];
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number {
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? NaN;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

function stats(lines: RunLine[]): Stats {
  const all = lines.flatMap((l) => l.samples_us).sort((a, b) => a - b);
  return {
    n: all.length,
    p50: round1(percentile(all, 50)),
    p90: round1(percentile(all, 90)),
    p99: round1(percentile(all, 99)),
    mean: round1(all.reduce((a, b) => a + b, 0) / (all.length || 1)),
    min: round1(all[0] ?? NaN),
    max: round1(all[all.length - 1] ?? NaN),
    turnP50: [...lines].sort((a, b) => a.round - b.round).map((l) => round1(percentile([...l.samples_us].sort((a, b) => a - b), 50))),
  };
}

function fmt(us: number): string {
  if (!Number.isFinite(us)) return 'n/a';
  if (us < 1000) return `${us.toFixed(us < 100 ? 1 : 0)} µs`;
  if (us < 1e6) return `${(us / 1000).toFixed(us < 1e4 ? 2 : 1)} ms`;
  return `${(us / 1e6).toFixed(2)} s`;
}
const fmtDelta = (us: number) => (Number.isFinite(us) ? `${us >= 0 ? '+' : '−'}${fmt(Math.abs(us))}` : 'n/a');
const fmtKb = (kb: number) => (Number.isFinite(kb) ? `${(kb / 1024).toFixed(1)} MiB` : 'n/a');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
const fmtRatio = (r: number) => (Number.isFinite(r) ? `${r.toFixed(2)}x` : 'n/a');

function parseArgs(argv: string[]) {
  const out = { meta: '', md: '', json: '', inputs: [] as string[] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--meta' || a === '--md' || a === '--json') out[a.slice(2) as 'meta' | 'md' | 'json'] = argv[++i] ?? '';
    else out.inputs.push(a);
  }
  if (!out.md || !out.json || out.inputs.length === 0) {
    console.error('usage: report.js [--meta META] --md OUT.md --json OUT.json RUNS.jsonl...');
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
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const lines: any[] = args.inputs.flatMap((file) =>
    fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim().startsWith('{'))
      .map((l) => JSON.parse(l)),
  );
  const runs = lines.filter((l): l is RunLine => l.kind === 'run');
  const pick = (tool: string, op: string) => runs.filter((l) => l.tool === tool && l.op === op);
  const rss = Object.fromEntries(lines.filter((l) => l.kind === 'rss').map((l) => [l.at, { rssKb: l.rss_kb, hwmKb: l.hwm_kb }]));
  const metrics = lines.find((l) => l.kind === 'metrics');
  const httpCounts = lines.find((l) => l.kind === 'http');

  const rows = ROWS.filter((r) => pick(r.addonTool ?? 'addon', r.addonOp).length && pick('gateway', r.gatewayOp).length).map((r) => {
    const addon = stats(pick(r.addonTool ?? 'addon', r.addonOp));
    const gateway = stats(pick('gateway', r.gatewayOp));
    const paired = gateway.turnP50.length === addon.turnP50.length ? median(gateway.turnP50.map((g, k) => g / addon.turnP50[k]!)) : NaN;
    return {
      function: r.fn,
      gatewayRequest: r.gateway,
      addonWork: r.addon,
      reference: r.reference ?? false,
      iterationsPerTurn: pick('gateway', r.gatewayOp)[0]!.iterations,
      warmupPerTurn: pick('gateway', r.gatewayOp)[0]!.warmup,
      addon,
      gateway,
      ratio: {
        p50: ratio(gateway.p50, addon.p50),
        p90: ratio(gateway.p90, addon.p90),
        p99: ratio(gateway.p99, addon.p99),
        mean: ratio(gateway.mean, addon.mean),
      },
      overheadP50Us: round1(gateway.p50 - addon.p50),
      turnPairedRatioP50: Number.isFinite(paired) ? ratio(paired, 1) : null,
    };
  });
  const main = rows.filter((r) => !r.reference);
  const refs = rows.filter((r) => r.reference);

  const md: string[] = [];
  md.push('# Functions: local gateway over HTTP vs. the addon alone', '');
  md.push(
    'Each function called through the local gateway (`node dist/shared/local/main.js`, its own process, `LOG_LEVEL=warn`) ' +
      'over HTTP/1.1 keep-alive (one socket, `node:http`, response read to the end and JSON-parsed), against the same ' +
      'Ceph work done through `CephClient` in the benchmark process, on one throwaway single-node cluster (1 mon + 1 memstore ' +
      'OSD, `scripts/sandbox-cluster.sh`), sequentially (concurrency 1). Ratio = gateway / addon. Generated by `npm run bench:gateway`.',
    '',
  );
  md.push('| function | addon p50 | gateway p50 | ratio | gateway − addon p50 | addon p90 | gateway p90 | addon p99 | gateway p99 | ratio p99 |');
  md.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  const tableRow = (r: (typeof rows)[number]) =>
    `| ${r.function} | ${fmt(r.addon.p50)} | ${fmt(r.gateway.p50)} | ${fmtRatio(r.ratio.p50)} | ${fmtDelta(r.overheadP50Us)} | ` +
    `${fmt(r.addon.p90)} | ${fmt(r.gateway.p90)} | ${fmt(r.addon.p99)} | ${fmt(r.gateway.p99)} | ${fmtRatio(r.ratio.p99)} |`;
  for (const r of main) md.push(tableRow(r));
  if (refs.length) {
    md.push(
      '',
      'For reference, the gateway against other baselines (the "other" side named in the row): the addon paced by 1 ms of idle ' +
        'time before each call (untimed), the bare createImage, and a bare node:http server (the HTTP floor).',
      '',
    );
    md.push('| comparison | other p50 | gateway p50 | ratio | gateway − other p50 | other p90 | gateway p90 | other p99 | gateway p99 | ratio p99 |');
    md.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const r of refs) md.push(tableRow(r));
  }

  md.push('', '## What is compared', '');
  md.push('| function | gateway request | addon work | samples per tool | addon mean | gateway mean | turn-paired ratio p50 | addon p50 per turn | gateway p50 per turn |');
  md.push('| --- | --- | --- | ---: | ---: | ---: | ---: | --- | --- |');
  for (const r of rows) {
    md.push(
      `| ${r.function} | ${r.gatewayRequest} | ${r.addonWork} | ${r.addon.n} / ${r.gateway.n} | ${fmt(r.addon.mean)} | ${fmt(r.gateway.mean)} | ` +
        `${fmtRatio(r.turnPairedRatioP50 ?? NaN)} | ${r.addon.turnP50.map(fmt).join(', ')} | ${r.gateway.turnP50.map(fmt).join(', ')} |`,
    );
  }

  md.push('', '## Gateway process', '');
  md.push(
    `- RSS: ${fmtKb(rss.ready?.rssKb)} when ready, ${fmtKb(rss.warm?.rssKb)} after the warm-up, ${fmtKb(rss.end?.rssKb)} at the end ` +
      `(peak ${fmtKb(rss.end?.hwmKb)})`,
  );
  if (meta.gateway_exit !== undefined) md.push(`- exit status after SIGTERM: ${meta.gateway_exit}; log lines at LOG_LEVEL=warn: ${meta.gateway_log_lines ?? '?'}`);
  if (httpCounts) {
    const g = httpCounts.gateway;
    const measured = runs.filter((l) => l.tool === 'gateway').reduce((n, l) => n + (l.connects_measured ?? 0), 0);
    md.push(
      `- HTTP: ${g.requests} requests to the gateway over ${g.socketsOpened} TCP connection(s) (the gateway closes a connection idle for 5 s, ` +
        `so a gateway turn after long addon turns reconnects on its first, warm-up, request); ${measured} measured request(s) opened a connection; ${g.retries} retried`,
    );
  }
  if (metrics) {
    const fns = Object.entries(metrics.functions as Record<string, { count: number; mean_us: number }>);
    const ceph = Object.entries(metrics.ceph as Record<string, { count: number; mean_us: number }>);
    md.push(
      `- its own request-duration histogram (time inside express, warm-up included), mean: ` +
        fns.map(([k, v]) => `${k} ${fmt(v.mean_us)} (${v.count})`).join(', '),
    );
    md.push(`- its Ceph-call histogram, mean: ` + ceph.map(([k, v]) => `${k} ${fmt(v.mean_us)} (${v.count})`).join(', '));
  }

  md.push('', '## Setup', '');
  const metaRows: [string, string | undefined][] = [
    ['date (UTC)', meta.date],
    ['mode', meta.mode],
    ['run order', meta.order],
    ['iterations', meta.iterations],
    ['warm-up', 'untimed: 50 list-pools, 20 list-images, 3 detail pages, 5 create+delete per tool first; then the first max(5, min(25, N/20)) runs of each turn (2 for the detail page) are done but not recorded'],
    ['nproc', meta.nproc],
    ['CPU', meta.cpu],
    ['memory', meta.memory],
    ['Ceph', meta.ceph],
    ['Node.js', meta.node],
    ['source', meta.git],
    ['load average before / after', meta.load_before && `${meta.load_before} / ${meta.load_after ?? '?'}`],
    ['other Ceph daemons on the machine before / after', meta.other_daemons && `${meta.other_daemons} / ${meta.other_daemons_after ?? '?'}`],
    ['wall time', meta.wall_seconds && `${meta.wall_seconds} s`],
  ];
  for (const [k, v] of metaRows) if (v) md.push(`- ${k}: ${v}`);
  md.push(
    '',
    'Percentiles are nearest-rank over the samples of all turns of a tool pooled together. For each function the tools take ' +
      'turns (addon gateway gateway addon gateway addon addon gateway in a full run) in one driver process that holds both a ' +
      'connected `CephClient` and the keep-alive socket to the gateway, so drift on a shared machine hits both alike. Both ' +
      'processes run with `UV_THREADPOOL_SIZE=16`. create-image and delete-image share a turn: the tool creates its images ' +
      '(names `<a|g>-r<turn>-<n>`, same length for both) in pool `rbd`, then deletes them; the pool is empty before and after ' +
      'every turn. list-images reads the pool `bench-list` pre-filled with 200 images. The HTTP floor is a bare `node:http` ' +
      'server (bench/gateway/http-floor.ts) answering the gateway\'s own list-pools JSON; it takes a turn after each gateway ' +
      'list-pools turn. The paced addon (1 ms of idle time before each call, untimed) takes a turn after each addon turn of ' +
      'list-pools, list-images and create-image/delete-image (images `p-r<turn>-<n>`). The gateway also checks Ceph every 5 s (one listPools) in the background, as it does in production.',
    '',
  );

  fs.writeFileSync(args.md, md.join('\n'));
  fs.writeFileSync(args.json, JSON.stringify({ meta, gatewayProcess: { rss, metrics, http: httpCounts }, results: rows }, null, 2) + '\n');
  process.stdout.write(md.join('\n') + '\n');
}

main();
