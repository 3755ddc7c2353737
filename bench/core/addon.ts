/**
 * The addon side of the core benchmark: the same operations, names, sizes and
 * iteration counts as bench/core/floor.c, done through the typed CephClient
 * (validation, N-API, libuv thread pool, promise), one at a time.
 *
 *   node dist/bench/core/addon.js POOL OPS ITERATIONS [LIST_POOL] [TAG]
 *
 * Arguments are floor.c's minus CONF: the connection comes from
 * loadCephConfig() (CEPH_CONF, CEPH_KEYRING, ...), which floor.c mirrors.
 * Prints the same JSON lines as floor.c. BENCH_ROUND is copied into them.
 */
import { CephClient } from '../../shared/ceph/client';
import { loadCephConfig, type CephConfig } from '../../shared/config';

const IMAGE_SIZE = 2 ** 30; // 1 GiB, as in floor.c
const LIST_IMAGES = 200;
const ALL_OPS = ['connect', 'list_pools', 'list_images', 'stat', 'create', 'remove', 'trash_move'] as const;
type Op = (typeof ALL_OPS)[number];

const DEFAULT_ITERATIONS: Record<Op, number> = {
  connect: 10,
  list_pools: 2000,
  list_images: 500,
  stat: 500,
  create: 200,
  remove: 200,
  trash_move: 100,
};

/** Same rule as floor.c: discard the first N/20 runs, at least 5, at most 25. */
export function warmupFor(n: number): number {
  return Math.min(25, Math.max(5, Math.floor(n / 20)));
}

function parseIterations(spec: string): Record<Op, number> {
  if (!spec.includes('=')) {
    const n = Number(spec);
    return Object.fromEntries(ALL_OPS.map((op) => [op, n])) as Record<Op, number>;
  }
  const out = { ...DEFAULT_ITERATIONS };
  for (const part of spec.split(',')) {
    const [op, n] = part.split('=');
    if ((ALL_OPS as readonly string[]).includes(op!)) out[op as Op] = Number(n);
  }
  return out;
}

const nowUs = (): number => Number(process.hrtime.bigint()) / 1000;

interface Ctx {
  config: CephConfig;
  client?: CephClient;
  pool: string;
  listPool: string;
  tag: string;
  round: number;
  /** Images made by "create", consumed by "remove". */
  created: string[];
}

const imageName = (ctx: Ctx, kind: string, i: number) => `${ctx.tag}-r${ctx.round}-${kind}-${String(i).padStart(6, '0')}`;

const names = (n: number, name: (i: number) => string) => Array.from({ length: n }, (_, i) => name(i));

/** Runs fn(i) total times; returns the time of each, in µs. */
async function timed(total: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const samples = new Array<number>(total);
  for (let i = 0; i < total; i++) {
    const t0 = nowUs();
    await fn(i);
    samples[i] = nowUs() - t0;
  }
  return samples;
}

async function runOp(ctx: Ctx, op: Op, total: number): Promise<number[]> {
  const client = ctx.client!;
  const { pool, listPool } = ctx;
  switch (op) {
    case 'connect':
      return timed(total, async () => {
        const c = await CephClient.connect(ctx.config);
        await c.close();
      });
    case 'list_pools':
      return timed(total, () => client.listPools());
    case 'list_images':
      return timed(total, async () => {
        const images = await client.listImages(listPool);
        if (images.length !== LIST_IMAGES) {
          throw new Error(`${listPool} holds ${images.length} images, expected ${LIST_IMAGES}`);
        }
      });
    case 'stat': {
      const specs = names(total, (i) => `list-${String(i % LIST_IMAGES).padStart(3, '0')}`).map((name) => ({
        pool: listPool,
        name,
      }));
      return timed(total, (i) => client.statImage(specs[i]!));
    }
    case 'create': {
      const specs = names(total, (i) => imageName(ctx, 'c', i)).map((name) => ({ pool, name }));
      const samples = await timed(total, (i) => client.createImage(specs[i]!, IMAGE_SIZE));
      ctx.created.push(...specs.map((s) => s.name));
      return samples;
    }
    case 'remove': {
      // Removes what "create" made; creates its own images (untimed) if short.
      for (let i = ctx.created.length; i < total; i++) {
        const name = imageName(ctx, 'r', i);
        await client.createImage({ pool, name }, IMAGE_SIZE);
        ctx.created.push(name);
      }
      const specs = ctx.created.splice(0, total).map((name) => ({ pool, name }));
      return timed(total, (i) => client.removeImage(specs[i]!));
    }
    case 'trash_move': {
      const specs = names(total, (i) => imageName(ctx, 't', i)).map((name) => ({ pool, name }));
      for (const spec of specs) await client.createImage(spec, IMAGE_SIZE);
      return timed(total, (i) => client.trashImage(specs[i]!, 0));
    }
  }
}

function emit(ctx: Ctx, op: Op, warmup: number, samples: number[]): void {
  const sorted = [...samples].sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1] ?? 0;
  const r1 = (x: number) => Math.round(x * 10) / 10;
  const mean = samples.reduce((a, b) => a + b, 0) / (samples.length || 1);
  process.stdout.write(
    JSON.stringify({
      tool: ctx.tag,
      round: ctx.round,
      op,
      iterations: samples.length,
      warmup,
      p50_us: r1(pct(50)),
      p90_us: r1(pct(90)),
      p99_us: r1(pct(99)),
      mean_us: r1(mean),
      samples_us: samples.map(r1),
    }) + '\n',
  );
}

async function main(): Promise<void> {
  const [pool, opsArg, iterArg, listPool = 'bench-list', tag = 'addon'] = process.argv.slice(2);
  if (!pool || !opsArg || !iterArg) {
    console.error('usage: addon.js POOL OPS ITERATIONS [LIST_POOL] [TAG]');
    process.exit(2);
  }
  const ops = (opsArg === 'all' ? [...ALL_OPS] : opsArg.split(',')) as Op[];
  for (const op of ops) if (!ALL_OPS.includes(op)) throw new Error(`unknown op ${op}`);
  const iterations = parseIterations(iterArg);
  const ctx: Ctx = {
    config: loadCephConfig(),
    pool,
    listPool,
    tag,
    round: Number(process.env.BENCH_ROUND ?? 0),
    created: [],
  };
  // connect runs before the long-lived connection exists, as in floor.c.
  for (const op of ops) {
    if (op !== 'connect' && !ctx.client) ctx.client = await CephClient.connect(ctx.config);
    const n = iterations[op];
    const w = warmupFor(n);
    const samples = await runOp(ctx, op, n + w);
    emit(ctx, op, w, samples.slice(w));
  }
  if (ctx.created.length) console.error(`addon: left ${ctx.created.length} created images in ${pool}`);
  await ctx.client?.close();
}

main().catch((err) => {
  console.error('addon:', err);
  process.exit(1);
});
