/**
 * Memory under load, in a process of its own (the bundled gateway, as the
 * image runs it), not in jest's: 20,000 requests after a 40,000-request
 * warm-up leave its RSS within 10 MB. The mix takes the success and the
 * failure paths of every read, and the 404 of a delete.
 */
import fs from 'node:fs';
import autocannon from 'autocannon';
import { waitFor } from '../helpers/net';
import { GATEWAY_BUNDLE, spawnRuntime, type RuntimeProcess } from '../helpers/process';

let gateway: RuntimeProcess;
let url: string;

beforeAll(async () => {
  expect(fs.existsSync(GATEWAY_BUNDLE)).toBe(true); // npm run test:reliability bundles first
  gateway = await spawnRuntime([GATEWAY_BUNDLE], { CEPH_CONF: process.env.CEPH_CONF });
  url = gateway.url;
  await waitFor(`${url}/_/ready`, 200, 20_000);
}, 30_000);

afterAll(() => gateway.kill());

const rssMiB = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${gateway.child.pid}/status`, 'utf8'))![1]) / 1024;

async function load(amount: number): Promise<{ total: number; non2xx: number; errors: number; statuses: Record<string, number> }> {
  const paths = [
    '/function/list-pools',
    '/function/list-images?pool=rbd',
    '/function/list-images?pool=no-such-pool',
    '/function/list-images?pool=bad/name',
    '/function/delete-image?pool=rbd&name=no-such-image',
  ];
  let i = 0;
  const result = await autocannon({
    url,
    connections: 32,
    amount,
    requests: [
      {
        setupRequest: (req) => {
          const p = paths[i++ % paths.length]!;
          return { ...req, path: p, method: p.startsWith('/function/delete') ? 'DELETE' : 'GET' };
        },
      },
    ],
  });
  return { total: result.requests.total, non2xx: result.non2xx, errors: result.errors + result.timeouts, statuses: result.statusCodeStats as unknown as Record<string, number> };
}

test('20,000 requests after a 40,000-request warm-up: RSS within 10 MB, no errors, no 5xx', async () => {
  // V8 grows its young generation to its maximum over the first ~15 s of load.
  const warm = await load(40_000);
  expect(warm.errors).toBe(0);
  const before = rssMiB();
  const run = await load(20_000);
  const after = rssMiB();
  expect(run.errors).toBe(0);
  expect(run.total).toBe(20_000);
  // 3 of every 5 are 4xx by design; none may be 5xx.
  expect(Object.keys(run.statuses).filter((s) => s.startsWith('5'))).toEqual([]);
  process.stderr.write(`memory: RSS ${before.toFixed(1)} → ${after.toFixed(1)} MiB over 20,000 requests (statuses ${JSON.stringify(run.statuses)})\n`);
  expect((after - before) * 1.048576).toBeLessThan(10); // MiB to MB
}, 180_000);
