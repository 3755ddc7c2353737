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
  // Four blocks; the lowest reading is the baseline, so a one-off jump (the
  // jest process also holds what earlier test files left) is not taken for
  // a leak, while a leak grows block after block.
  const readings = [settledRssMb()];
  for (let block = 0; block < 4; block++) {
    await statMany(CALLS / 4);
    readings.push(settledRssMb());
  }
  const growth = readings.at(-1)! - Math.min(...readings);
  process.stderr.write(`stat x${CALLS}: RSS ${readings.map((mb) => mb.toFixed(1)).join(' -> ')} MB\n`);
  expect(growth).toBeLessThan(ALLOWED_GROWTH_MB);
}, 180_000);
