/**
 * 20,000 stat calls on one image must not grow resident memory by more than
 * a few MB: every librbd buffer and handle the addon takes is released.
 */
import type { CephClient } from '../../shared/ceph/client';
import { connectSandbox, uniqueName } from '../helpers/ceph';

const CALLS = 20_000;
const CONCURRENCY = 8;
const ALLOWED_GROWTH_MB = 6;

let client: CephClient;
const name = uniqueName('memstat');

beforeAll(async () => {
  client = await connectSandbox();
  await client.createImage({ pool: 'rbd', name }, 2 ** 30);
});
afterAll(async () => {
  await client.removeImage({ pool: 'rbd', name });
  await client.close();
});

async function statMany(count: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      await client.statImage({ pool: 'rbd', name });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

function settledRssMb(): number {
  global.gc?.();
  return process.memoryUsage().rss / 2 ** 20;
}

test(`${CALLS} stat calls leave RSS within ${ALLOWED_GROWTH_MB} MB`, async () => {
  expect(global.gc).toBeDefined(); // run under node --expose-gc, as npm test does
  await statMany(2_000); // warm-up: librbd caches, malloc arenas, JIT
  const before = settledRssMb();
  await statMany(CALLS);
  const after = settledRssMb();
  process.stderr.write(`stat x${CALLS}: RSS ${before.toFixed(1)} MB -> ${after.toFixed(1)} MB\n`);
  expect(after - before).toBeLessThan(ALLOWED_GROWTH_MB);
}, 180_000);
