/**
 * Calls completed per second through the local gateway's async queue
 * (RBD_ASYNC_CONCURRENCY=8): submissions to /async-function/<name> with an
 * X-Callback-Url on loopback, timed from the first submission to the last
 * callback; against the same calls made synchronously to /function/<name> by
 * 8 concurrent clients. Turns go sync, async, async, sync.
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { GATEWAY, log, median, start, stop, type Scenario } from '../lib';

const CONCURRENCY = 8;

/** n jobs on `width` workers. */
async function workers(n: number, width: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < n) await job(next++);
  }));
}

async function post(url: string, body: string | undefined, headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(url, { method: 'POST', body, headers: body ? { 'content-type': 'application/json', ...headers } : headers });
  await res.arrayBuffer();
  return res.status;
}

export const asyncQueue: Scenario = {
  name: 'async-queue',
  async run(ctx) {
    const calls = ctx.quick ? { 'list-pools': 200, 'create-image': 30 } : { 'list-pools': 2000, 'create-image': 300 };
    const gateway = await start(GATEWAY, [], '/_/ready', { RBD_ASYNC_CONCURRENCY: String(CONCURRENCY), RBD_ASYNC_QUEUE_SIZE: '100000' });
    // The callbacks' receiver: counts them by X-Function-Status; `arrived` fires at each.
    const statuses = new Map<string, number>();
    const arrived = new EventEmitter();
    const hook = http.createServer((req, res) => {
      req.resume().on('end', () => {
        const status = String(req.headers['x-function-status']);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        res.end();
        arrived.emit('callback');
      });
    });
    hook.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    const callbackUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/callback`;
    const body = (op: string, prefix: string, i: number) => (op === 'list-pools' ? undefined : JSON.stringify({ pool: 'rbd', name: `${prefix}-${i}`, ...(op === 'create-image' && { size: '1Mi' }) }));
    const turn = async (mode: string, op: string, n: number, prefix: string) => {
      statuses.clear();
      let callbacks = 0;
      const all = new Promise<void>((resolve) => arrived.on('callback', () => ++callbacks === n && resolve()));
      const started = performance.now();
      if (mode === 'sync') {
        await workers(n, CONCURRENCY, async (i) => {
          const status = String(await post(`${gateway.base}/function/${op}`, body(op, prefix, i)));
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        });
      } else {
        // Submitting is cheap; 8 submitters keep the queue fed without a burst of n sockets.
        await workers(n, CONCURRENCY, async (i) => {
          const status = await post(`${gateway.base}/async-function/${op}`, body(op, prefix, i), { 'X-Callback-Url': callbackUrl });
          if (status !== 202) throw new Error(`async ${op}: HTTP ${status}, not 202`);
        });
        await all;
      }
      arrived.removeAllListeners();
      return { perSecond: n / ((performance.now() - started) / 1000), statuses: Object.fromEntries(statuses) };
    };
    const turns: Record<string, { mode: string; perSecond: number; statuses: object }[]> = {};
    for (const [op, n] of Object.entries(calls)) {
      for (const [k, mode] of ['sync', 'async', 'async', 'sync'].entries()) {
        log(`async queue: ${op}, ${mode} turn`);
        const prefix = `bench-${mode}-${k}`;
        for (const step of op === 'create-image' ? ['create-image', 'delete-image'] : [op]) (turns[step] ??= []).push({ mode, ...(await turn(mode, step, n, prefix)) });
      }
    }
    hook.close();
    const code = await stop(gateway);
    if (code !== 0) throw new Error(`the gateway exited with ${code} after SIGTERM`);
    for (const [op, runs] of Object.entries(turns)) {
      for (const mode of ['sync', 'async']) {
        const mine = runs.filter((r) => r.mode === mode);
        ctx.emit({ op, system: mode, metric: 'callsPerSecond', value: median(mine.map((r) => r.perSecond)), calls: calls[op as keyof typeof calls] ?? calls['create-image'], statuses: mine.map((r) => r.statuses) });
      }
    }
  },
};
