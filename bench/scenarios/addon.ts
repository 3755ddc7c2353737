/**
 * The addon against the floor, call for call: each core operation through
 * CephClient (validation, N-API, the libuv pool, a promise) and through
 * floor.c, sequentially, taking turns (ABBA BAAB in a full run) so that drift
 * weighs on both; each turn on a connection of its own.
 */
import { CephClient } from '../../shared/ceph/client';
import { loadCephConfig } from '../../shared/config';
import { addonLatency, exec, fill, latency, log, summary, type Scenario } from '../lib';

const POOL = 'rbd';
/** Pre-filled with img-0 .. img-199: list_images lists them, stat cycles through them. */
const LIST_POOL = 'bench-list';
const SIZE = 2 ** 30;

export const addon: Scenario = {
  name: 'addon',
  pools: { [LIST_POOL]: 200 },
  async run(ctx) {
    const n = ctx.quick
      ? { connect: 3, list_pools: 200, list_images: 50, stat: 50, create: 20, trash_move: 10 }
      : { connect: 10, list_pools: 1000, list_images: 250, stat: 250, create: 100, trash_move: 50 };
    const order = ctx.quick ? ['floor', 'addon'] : ['floor', 'addon', 'addon', 'floor', 'addon', 'floor', 'floor', 'addon'];
    const img = (prefix: string, i: number) => ({ pool: POOL, name: i < 0 ? `${prefix}-w${-1 - i}` : `${prefix}-${i}` });
    /** What each op does through the addon; warm-ups (i < 0) make and remove their own images. */
    const calls: Record<string, (c: CephClient, prefix: string) => (i: number) => Promise<unknown>> = {
      connect: () => async () => (await CephClient.connect(loadCephConfig())).close(),
      list_pools: (c) => () => c.listPools(),
      list_images: (c) => () => c.listImages(LIST_POOL),
      stat: (c) => (i) => c.statImage({ pool: LIST_POOL, name: `img-${(i < 0 ? -1 - i : i) % 200}` }),
      create: (c, p) => async (i) => {
        await c.createImage(img(p, i), SIZE);
        if (i < 0) await c.removeImage(img(p, i));
      },
      delete: (c, p) => async (i) => {
        if (i < 0) await c.createImage(img(p, i), SIZE);
        await c.removeImage(img(p, i));
      },
      trash_move: (c, p) => async (i) => {
        if (i < 0) await c.createImage(img(p, i), SIZE);
        await c.trashImage(img(p, i), 0);
      },
    };
    const floorArgs: Record<string, string[]> = { list_images: [LIST_POOL], stat: [LIST_POOL, 'img'] };
    const samples = new Map<string, number[][]>();
    const add = (key: string, s: number[]) => samples.set(key, [...(samples.get(key) ?? []), s]);
    for (const [group, count] of Object.entries(n)) {
      const ops = group === 'create' ? ['create', 'delete'] : [group];
      for (const [turn, tool] of order.entries()) {
        const prefix = `${tool}-${group}-${turn}`;
        if (group === 'trash_move') await fill(POOL, prefix, count);
        const client = tool === 'addon' && (await CephClient.connect(loadCephConfig()));
        for (const op of ops) {
          const args = floorArgs[op] ?? (group === 'create' || group === 'trash_move' ? [POOL, prefix] : []);
          add(`${op} ${tool}`, client ? await addonLatency(calls[op]!(client, prefix), count) : await latency({ floor: [op, ...args] }, count));
        }
        if (client) await client.close();
        if (group === 'trash_move') await exec('rbd', ['-c', ctx.conf, 'trash', 'purge', POOL, '--no-progress']);
        log(`addon: ${group}, turn ${turn + 1} of ${order.length} (${tool})`);
      }
    }
    for (const [key, turns] of samples) {
      const [op, system] = key.split(' ');
      ctx.emit({ op: op!, system: system!, latency: summary(turns.flat(), turns) });
    }
  },
};
