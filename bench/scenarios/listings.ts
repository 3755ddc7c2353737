/**
 * The listings: list-pools, list-images (names only, pools of 1,000 and
 * 10,000 images) and one page of 100 with detail, by every system: p50 at
 * concurrency 1, throughput at 32, the function's event-loop delay.
 */
import { eventLoopP99Ms, idleFloorEnv, latency, log, ok2xx, request, service, setIdleGap, summary, throughput, addonLatency, type Context, type Scenario, type Throughput, type Way } from '../lib';

export const sizes = (quick: boolean) =>
  quick ? { latency: 30, latencySlow: 8, cli: 5, seconds: 2, rounds: 1 } : { latency: 300, latencySlow: 40, cli: 20, seconds: 5, rounds: 3 };
/**
 * The dashboard's web server (cherrypy) has 10 worker threads and a listen
 * queue of 5: beyond 10 connections it only adds dropped-connection stalls
 * of 1-3 s, so it gets its best case, 10.
 */
export const DASHBOARD_CONNECTIONS = 10;
/** A detail page is 100 image opens, each with client CPU of its own: 8 at once already saturate 2 CPUs. */
const DETAIL_CONCURRENCY = 8;
export const LATENCY_ONLY = { skipped: 'latency only' };

/** The c=1 latency, then the c=32 throughput, of one system. */
async function measure(ctx: Context, op: string, system: string, way: Way, n: number, load: { seconds?: number; amount?: number } | string, extra = {}) {
  log(`${op}: ${system}`);
  const lat = summary(await latency(way, n));
  ctx.emit({ op, system, latency: lat, throughput: typeof load === 'string' ? { skipped: load } : await throughput(way, load), ...extra });
}

export const listPools: Scenario = {
  name: 'list-pools',
  dashboard: true,
  async run(ctx) {
    const [fn, express, expressCeph] = await Promise.all(['list-pools', 'express', 'express-ceph'].map(service));
    const N = sizes(ctx.quick);
    const op = 'list-pools';
    const get = () => ({ method: 'GET', path: '/' });
    const dash = ctx.dashboard!;
    // Two targets are throughput ratios between these systems: they take
    // turns, a slice of the time each per round, so drift on a shared machine
    // weighs on all alike.
    const systems: [string, Way, number][] = [
      ['floor', { floor: ['list_pools'] }, N.latency],
      ['project', { base: fn!.base, req: get }, N.latency],
      ['express', { base: express!.base, req: get }, N.latency],
      ['express-ceph', { base: expressCeph!.base, req: get }, N.latency],
      ['dashboard', { base: dash.url, req: () => ({ method: 'GET', path: '/api/pool?attrs=pool_name,application_metadata', headers: dash.headers() }), connections: DASHBOARD_CONNECTIONS }, N.latencySlow],
    ];
    const latencies = new Map<string, ReturnType<typeof summary>>();
    for (const [system, way, n] of systems) {
      log(`${op}: ${system}, latency`);
      latencies.set(system, summary(await latency(way, n)));
    }
    setIdleGap(latencies.get('express')!.p50_us);
    ctx.emit({ op, system: 'floor-idle', latency: summary(await latency({ floor: ['list_pools'], env: await idleFloorEnv() }, N.latency)), throughput: LATENCY_ONLY });
    ctx.emit({ op, system: 'addon', latency: summary(await addonLatency(() => ctx.addon.listPools(), N.latency)), throughput: LATENCY_ONLY });
    const rates = new Map<string, Throughput[]>(systems.map(([system]) => [system, []]));
    await eventLoopP99Ms(fn!); // resets its histogram
    for (let r = 0; r < N.rounds; r++) {
      log(`${op}: throughput, round ${r + 1} of ${N.rounds}`);
      for (const [system, way] of systems) rates.get(system)!.push(await throughput(way, { seconds: Math.max(2, Math.round(N.seconds * 0.6)) }));
    }
    ctx.emit({ op, system: 'project', metric: 'eventLoopP99Ms', value: await eventLoopP99Ms(fn!) });
    for (const [system] of systems) {
      const runs = rates.get(system)!;
      const sum = (k: 'per_second' | 'non2xx' | 'errors') => runs.reduce((a, t) => a + Number(t[k] ?? 0), 0);
      ctx.emit({ op, system, latency: latencies.get(system), throughput: { per_second: sum('per_second') / runs.length, rounds: runs.map((t) => t.per_second), non2xx: sum('non2xx'), errors: sum('errors') } });
    }
    const cli = { cli: () => ['ceph', '-c', ctx.conf, 'osd', 'pool', 'ls', 'detail', '--format', 'json'] };
    await measure(ctx, op, 'cli', cli, N.cli, { seconds: N.seconds });
  },
};

export const listImages: Scenario = {
  name: 'list-images',
  dashboard: true,
  pools: { 'bench-1k': 1000, 'bench-10k': 10000 },
  async run(ctx) {
    const N = sizes(ctx.quick);
    const [fn, express, expressCeph] = await Promise.all(['list-images', 'express', 'express-ceph'].map(service));
    const dash = ctx.dashboard!;
    for (const pool of ctx.quick ? ['bench-1k'] : ['bench-1k', 'bench-10k']) {
      const op = `list-images ${pool}`;
      const count = Number(/(\d+)k$/.exec(pool)![1]) * 1000;
      await measure(ctx, op, 'floor', { floor: ['list_images', pool] }, N.latencySlow, { seconds: N.seconds });
      ctx.emit({ op, system: 'floor-idle', latency: summary(await latency({ floor: ['list_images', pool], env: await idleFloorEnv() }, N.latencySlow)), throughput: LATENCY_ONLY });
      const page = () => ctx.addon.listImagesPage(pool, undefined, { limit: count, json: true });
      ctx.emit({ op, system: 'addon', latency: summary(await addonLatency(page, N.latencySlow)), throughput: LATENCY_ONLY });
      const req = () => ({ method: 'GET', path: `/?pool=${pool}&limit=${count}` });
      await eventLoopP99Ms(fn!);
      await measure(ctx, op, 'project', { base: fn!.base, req }, N.latencySlow, { seconds: N.seconds });
      ctx.emit({ op, system: 'project', metric: 'eventLoopP99Ms', value: await eventLoopP99Ms(fn!) });
      // The function's answer as constant bytes over bare express: the page's
      // own HTTP cost, which the floor (listing in memory) never pays.
      const answer = (await request(fn!.base, req())).body;
      await request(express!.base, { method: 'PUT', path: '/page', body: answer });
      const pageWay = { base: express!.base, req: () => ({ method: 'GET', path: '/page' }) };
      await measure(ctx, op, 'express', pageWay, N.latencySlow, 'latency only', { bytes: Buffer.byteLength(answer) });
      await measure(ctx, op, 'express-ceph', { base: expressCeph!.base, req: () => ({ method: 'GET', path: `/images?pool=${pool}&limit=${count}` }) }, N.latencySlow, 'latency only');
      // The dashboard lists in pages of 100 and stats every image it lists; a
      // whole 10,000-image listing takes minutes (~20 ms per image), so the
      // time is the pages timed, scaled to the pool's page count.
      const pages = Math.ceil(count / 100);
      const timed = Math.min(pages, ctx.quick ? 2 : 5);
      const dashPage = (i: number) => ({ method: 'GET', path: `/api/block/image?pool_name=${pool}&offset=${(i % timed) * 100}&limit=100`, headers: dash.headers('2.0') });
      const samples: number[] = [];
      for (let k = 0; k < (ctx.quick ? 1 : 2); k++) {
        log(`${op}: dashboard, listing ${k + 1}`);
        const pageTimes = await latency({ base: dash.url, req: dashPage }, timed);
        samples.push(pageTimes.reduce((a, b) => a + b, 0) * (pages / timed));
      }
      ctx.emit({ op, system: 'dashboard', latency: summary(samples), throughput: { skipped: 'a whole listing takes minutes' }, pages, pagesTimed: timed });
      await measure(ctx, op, 'cli', { cli: () => ['rbd', '-c', ctx.conf, 'ls', '-p', pool] }, N.cli, { seconds: N.seconds });
    }
  },
};

export const listImagesDetail: Scenario = {
  name: 'list-images-detail',
  dashboard: true,
  pools: { 'bench-100': 100 },
  async run(ctx) {
    const N = sizes(ctx.quick);
    const [op, pool] = ['list-images detail 100', 'bench-100'];
    const n = ctx.quick ? 3 : 10;
    const few = ctx.quick ? 2 : 5;
    const load = { seconds: N.seconds };
    // The floor's requests share one pool of 16 stat threads, as one function process does.
    await measure(ctx, op, 'floor', { floor: ['list_images_detail', pool], concurrency: DETAIL_CONCURRENCY }, n, load);
    const fn = await service('list-images');
    await measure(ctx, op, 'project', { base: fn.base, req: () => ({ method: 'GET', path: `/?pool=${pool}&detail=true&limit=100` }), connections: DETAIL_CONCURRENCY }, n, load);
    const dreq = () => ({ method: 'GET', path: `/api/block/image?pool_name=${pool}&offset=0&limit=100`, headers: ctx.dashboard!.headers('2.0') });
    await measure(ctx, op, 'dashboard', { base: ctx.dashboard!.url, req: dreq, ok: ok2xx, connections: DETAIL_CONCURRENCY }, few, load);
    await measure(ctx, op, 'cli', { cli: () => ['rbd', '-c', ctx.conf, 'ls', '-l', '--format', 'json', '-p', pool], width: DETAIL_CONCURRENCY }, few, load);
  },
};
