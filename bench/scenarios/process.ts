/**
 * A function process (list-pools) against bare express over the addon: cold
 * start to the first 200, taking turns, before any load; RSS idle, and under
 * sustained load after a warm-up.
 */
import { EXPRESS_FLOOR, FUNCTION, log, median, rssKiB, sleep, start, stop, throughput, type Scenario } from '../lib';

export const coldStart: Scenario = {
  name: 'cold-start',
  async run(ctx) {
    const samples = { project: [] as number[], 'express-ceph': [] as number[] };
    for (let i = 0; i < (ctx.quick ? 3 : 7); i++) {
      log(`cold starts, turn ${i + 1}`);
      for (const [system, script, argv] of [['project', FUNCTION, ['list-pools']], ['express-ceph', EXPRESS_FLOOR, ['--ceph']]] as const) {
        const proc = await start(script, [...argv], '/');
        samples[system].push(proc.coldMs);
        await stop(proc);
      }
    }
    for (const [system, values] of Object.entries(samples)) {
      ctx.emit({ op: 'process', system, metric: 'coldStartMs', value: median(values), max: Math.max(...values), samples: values });
    }
  },
};

export const rss: Scenario = {
  name: 'rss',
  async run(ctx) {
    const fn = await start(FUNCTION, ['list-pools']);
    const express = await start(EXPRESS_FLOOR, [], '/');
    const expressCeph = await start(EXPRESS_FLOOR, ['--ceph'], '/');
    await sleep(2000);
    const idle = { project: rssKiB(fn.child.pid!), express: rssKiB(express.child.pid!), 'express-ceph': rssKiB(expressCeph.child.pid!) };
    const load = () => throughput({ base: fn.base, req: () => ({ method: 'GET', path: '/' }) }, { seconds: ctx.quick ? 2 : 5 });
    // Warm-up: under sustained load V8 grows its young generation to its
    // maximum and the old one to an equilibrium, which takes ~15 s here.
    log('RSS: warm-up loads');
    for (let i = 0; i < (ctx.quick ? 1 : 3); i++) await load();
    const afterWarmup = rssKiB(fn.child.pid!);
    const loaded: number[] = [];
    for (let i = 0; i < (ctx.quick ? 2 : 4); i++) {
      await load();
      loaded.push(rssKiB(fn.child.pid!));
    }
    for (const [system, kib] of Object.entries(idle)) ctx.emit({ op: 'process', system, metric: 'idleRssKiB', value: kib });
    ctx.emit({ op: 'process', system: 'project', metric: 'loadedRssKiB', value: loaded.at(-1)!, afterWarmup, loaded, growthAfterWarmup: loaded.at(-1)! - afterWarmup });
    for (const proc of [fn, express, expressCeph]) await stop(proc);
  },
};
