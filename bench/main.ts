/**
 * The benchmark: named scenarios on one sandbox cluster, every figure beside
 * a baseline measured in the same run (the C floor, bare express, a bare
 * Node.js container), written as one results file per scenario set.
 *
 *   npm run bench                          # every scenario, full sizes
 *   npm run bench -- list-pools addon      # those scenarios only
 *   npm run bench -- --quick               # every scenario, small sizes (CI)
 *   npm run bench -- --out DIR             # results elsewhere
 *
 * Results: OUT/<set>.json and OUT/<set>.md, the set being "all" or the
 * scenario names joined with "+"; OUT is bench/results (which also
 * regenerates docs/benchmarks.md), or bench/results/quick.tmp with --quick.
 * container-start needs the images (npm run images).
 */
process.env.UV_THREADPOOL_SIZE ??= '16'; // as a function process: the addon's detail stats run 16 at a time
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CephClient } from '../shared/ceph/client';
import { loadCephConfig } from '../shared/config';
import { exec, fill, log, root, stopAll, stopServices, useFloor, type Result, type Scenario } from './lib';
import { writeDocs, writeResults } from './report';
import { addon } from './scenarios/addon';
import { asyncQueue } from './scenarios/async-queue';
import { containerStart } from './scenarios/container-start';
import { createImage, lifecycle } from './scenarios/images';
import { listImages, listImagesDetail, listPools } from './scenarios/listings';
import { coldStart, rss } from './scenarios/process';

/** In the order they run: cold starts before any load, the shared pools' users in a row. */
const SCENARIOS: Scenario[] = [coldStart, listPools, listImages, listImagesDetail, createImage, lifecycle, rss, addon, asyncQueue, containerStart];

const { values: opts, positionals: names } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  allowPositionals: true,
});
if (opts.help) {
  process.stdout.write(`usage: npm run bench -- [--quick] [--out DIR] [SCENARIO...]\nscenarios: ${SCENARIOS.map((s) => s.name).join(' ')}\n`);
  process.exit(0);
}
for (const name of names) if (!SCENARIOS.some((s) => s.name === name)) throw new Error(`unknown scenario ${name}; known: ${SCENARIOS.map((s) => s.name).join(' ')}`);
const chosen = SCENARIOS.filter((s) => names.length === 0 || names.includes(s.name));
const out = opts.out ?? (opts.quick ? 'bench/results/quick.tmp' : 'bench/results');
const set = names.length === 0 ? 'all' : chosen.map((s) => s.name).join('+');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rbd-bench-'));
const sandbox = path.join(work, 'cluster');
// The processes' temporary files (logs, lock files) go with the run's directory.
process.env.TMPDIR = path.join(work, 'tmp');
fs.mkdirSync(process.env.TMPDIR);
const sh = (...argv: string[]) => exec(argv[0]!, argv.slice(1), { cwd: root, maxBuffer: 64 << 20 }).then((r) => r.stdout);

let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    stopAll();
    // Only the cluster this run booted: `down` checks its marker file.
    if (fs.existsSync(sandbox)) await sh('bash', 'scripts/sandbox-cluster.sh', 'down', sandbox).catch((err: Error) => log(`teardown of ${sandbox} failed: ${err.message}`));
    fs.rmSync(work, { recursive: true, force: true });
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void cleanup().then(() => process.exit(signal === 'SIGINT' ? 130 : 143)));

async function main(): Promise<void> {
  const started = Date.now();
  process.chdir(root);
  if (!fs.existsSync('native/build/Release/rbd_native.node')) throw new Error('native addon not built; run: npm run build:native');
  // Before the cluster, so a build error costs no boot; the TypeScript is built by `npm run bench`.
  log('building the bundles and the floor');
  await sh(process.execPath, 'scripts/bundle.mjs');
  await sh(process.execPath, 'scripts/bundle.mjs', '--outdir', 'dist/bench/bundle', '--entry', 'express-floor=bench/express-floor.ts');
  const floorPath = path.join(work, 'floor');
  await sh('gcc', '-O2', '-Wall', '-Wextra', '-pthread', '-o', floorPath, 'bench/floor.c', '-lrados', '-lrbd');

  // Connection and runtime settings come from the sandbox only, for every system.
  for (const name of ['CEPH_ID', 'CEPH_MON_HOST', 'CEPH_KEY', 'CEPH_TIMEOUT_SECONDS', 'CEPH_ARGS', 'CEPH_CHECK_INTERVAL_SECONDS', 'NODE_OPTIONS', 'K_SINK', 'RBD_API_TOKEN', 'RBD_POOLS', 'RBD_MAX_IMAGE_SIZE', 'exec_timeout', 'max_inflight', 'port', 'PORT']) delete process.env[name];
  process.env.OPENFAAS_SECRETS_DIR = path.join(work, 'no-secrets');
  const dashboard = chosen.some((s) => s.dashboard);
  log(`booting a sandbox cluster${dashboard ? ' with the dashboard' : ''} in ${sandbox}`);
  const lines = await sh('bash', 'scripts/sandbox-cluster.sh', 'up', sandbox, ...(dashboard ? ['--dashboard'] : []));
  const cluster = Object.fromEntries(lines.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  const conf = cluster.CEPH_CONF!;
  Object.assign(process.env, { CEPH_CONF: conf, CEPH_KEYRING: cluster.CEPH_KEYRING });
  useFloor(floorPath, conf);

  const pools = Object.assign({}, ...chosen.map((s) => s.pools ?? {})) as Record<string, number>;
  if (opts.quick) delete pools['bench-10k'];
  for (const [pool, count] of Object.entries(pools)) {
    const t = Date.now();
    await sh('ceph', '-c', conf, '--connect-timeout', '20', 'osd', 'pool', 'create', pool, '8', '8');
    await sh('timeout', '120', 'rbd', '-c', conf, 'pool', 'init', pool);
    if (count) await fill(pool, 'img', count);
    log(`pool ${pool}: ${count} images in ${((Date.now() - t) / 1000).toFixed(0)} s`);
  }

  const git = (await sh('git', 'rev-parse', '--short', 'HEAD')).trim();
  const dirty = await sh('git', 'diff', '--quiet', 'HEAD', '--', 'shared', 'functions', 'native', 'bench').then(() => '', () => ' + uncommitted changes');
  const meta: Record<string, string | number | string[]> = {
    set,
    scenarios: chosen.map((s) => s.name),
    mode: opts.quick ? 'quick' : 'full',
    date: new Date().toISOString().slice(0, 19).replace('T', ' '),
    nproc: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? '?',
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    ceph: (await sh('ceph', '--version')).replace(/ \(.*/s, ''),
    node: process.version,
    git: git + dirty,
    load_before: os.loadavg().map((x) => x.toFixed(2)).join(' '),
  };

  const client = await CephClient.connect(loadCephConfig());
  const results: Result[] = [];
  let dashboardHeaders: ((version?: string) => Record<string, string>) | undefined;
  if (dashboard) {
    const password = fs.readFileSync(cluster.DASHBOARD_PASSWORD_FILE!, 'utf8').trim();
    const res = await fetch(`${cluster.DASHBOARD_URL}/api/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/vnd.ceph.api.v1.0+json' },
      body: JSON.stringify({ username: cluster.DASHBOARD_USER, password }),
    });
    if (!res.ok) throw new Error(`dashboard auth: HTTP ${res.status} ${await res.text()}`);
    const { token } = (await res.json()) as { token: string };
    dashboardHeaders = (version = '1.0') => ({ authorization: `Bearer ${token}`, accept: `application/vnd.ceph.api.v${version}+json` });
  }
  try {
    for (const scenario of chosen) {
      const t = Date.now();
      log(`scenario ${scenario.name}`);
      await scenario.run({
        quick: opts.quick!,
        conf,
        work,
        addon: client,
        dashboard: dashboardHeaders && { url: cluster.DASHBOARD_URL!, headers: dashboardHeaders },
        emit: (result) => results.push({ scenario: scenario.name, ...result }),
      });
      meta[`seconds_${scenario.name}`] = Math.round((Date.now() - t) / 1000);
    }
  } finally {
    await stopServices();
    await client.close();
  }
  meta.load_after = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  meta.wall_seconds = Math.round((Date.now() - started) / 1000);
  const file = writeResults(out, set, { meta, results });
  log(`wrote ${file} and its .md in ${meta.wall_seconds} s`);
  if (path.resolve(out) === path.resolve('bench/results')) log(`regenerated ${writeDocs()}`);
}

main().then(
  () => cleanup(),
  async (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    await cleanup();
    process.exit(1);
  },
);
