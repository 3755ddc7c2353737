/**
 * Async throughput through the local gateway's queue: N calls submitted to
 * /async-function/<name> with an X-Callback-Url on loopback, timed from the
 * first submission to the last callback. Baseline in the same run: the same
 * N calls made synchronously to /function/<name> by as many concurrent
 * clients as the queue runs calls (RBD_ASYNC_CONCURRENCY). Turns alternate
 * sync, async, async, sync, so drift weighs on both.
 *
 *   node dist/bench/async/bench.js --url URL --concurrency 8 --calls list-pools=2000,create-image=400
 *
 * Prints one JSON line per turn.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { url: { type: 'string' }, concurrency: { type: 'string', default: '8' }, calls: { type: 'string' }, pool: { type: 'string', default: 'rbd' } },
});
const base = values.url!;
const concurrency = Number(values.concurrency);
const calls = Object.fromEntries(values.calls!.split(',').map((kv) => kv.split('=')).map(([k, v]) => [k!, Number(v)]));
const pool = values.pool!;

/** Counts callbacks and resolves when `expected` have arrived. */
function receiver(): Promise<{ url: string; expect(n: number): Promise<number>; statuses: Map<string, number>; close(): void }> {
  let count = 0;
  let target = Infinity;
  let done: ((at: number) => void) | undefined;
  const statuses = new Map<string, number>();
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const status = String(req.headers['x-function-status']);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      res.end();
      if (++count >= target) done?.(performance.now());
    });
  });
  server.keepAliveTimeout = 30_000;
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`,
        statuses,
        expect(n) {
          count = 0;
          statuses.clear();
          target = n;
          return new Promise((r) => (done = r));
        },
        close: () => server.close(),
      }),
    ),
  );
}

/** Runs `n` jobs with `width` workers. */
async function workers(n: number, width: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < n) await job(next++);
  }));
}

function request(op: string, i: number, prefix: string): { path: string; body?: string } {
  switch (op) {
    case 'list-pools':
      return { path: 'list-pools' };
    case 'create-image':
      return { path: 'create-image', body: JSON.stringify({ pool, name: `${prefix}-${i}`, size: '1Mi' }) };
    case 'delete-image':
      return { path: 'delete-image', body: JSON.stringify({ pool, name: `${prefix}-${i}` }) };
    default:
      throw new Error(`unknown op ${op}`);
  }
}

async function post(url: string, body: string | undefined, headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(url, { method: 'POST', body, headers: body ? { 'content-type': 'application/json', ...headers } : headers });
  await res.arrayBuffer();
  return res.status;
}

async function turn(mode: 'sync' | 'async', op: string, n: number, prefix: string, hook: Awaited<ReturnType<typeof receiver>>) {
  const statuses = new Map<string, number>();
  const started = performance.now();
  let finished: number;
  if (mode === 'sync') {
    await workers(n, concurrency, async (i) => {
      const { path, body } = request(op, i, prefix);
      const status = String(await post(`${base}/function/${path}`, body));
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    });
    finished = performance.now();
  } else {
    const all = hook.expect(n);
    let refused = 0;
    // Submitting is cheap; 8 submitters keep the queue fed without a burst of n sockets.
    await workers(n, concurrency, async (i) => {
      const { path, body } = request(op, i, prefix);
      const status = await post(`${base}/async-function/${path}`, body, { 'X-Callback-Url': hook.url });
      if (status !== 202) refused++;
    });
    if (refused) throw new Error(`${refused} async submissions refused`);
    finished = await all;
    for (const [k, v] of hook.statuses) statuses.set(k, v);
  }
  const seconds = (finished - started) / 1000;
  return { mode, op, calls: n, seconds, perSecond: n / seconds, statuses: Object.fromEntries(statuses) };
}

async function main(): Promise<void> {
  const hook = await receiver();
  const order: ('sync' | 'async')[] = ['sync', 'async', 'async', 'sync'];
  for (const [op, n] of Object.entries(calls)) {
    for (const [k, mode] of order.entries()) {
      const prefix = `bench-${mode}-${k}`;
      if (op === 'create-image') {
        const created = await turn(mode, 'create-image', n, prefix, hook);
        process.stdout.write(`${JSON.stringify(created)}\n`);
        const deleted = await turn(mode, 'delete-image', n, prefix, hook);
        process.stdout.write(`${JSON.stringify(deleted)}\n`);
      } else {
        process.stdout.write(`${JSON.stringify(await turn(mode, op, n, prefix, hook))}\n`);
      }
    }
  }
  hook.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
