/**
 * Same-name races through one gateway process, checked with the rbd CLI:
 * concurrent creates of one name make exactly one image, and concurrent
 * deletes of one image report exactly one deletion.
 */
import { rbd, rbdInfo, uniqueName } from '../helpers/ceph';
import { call, startGateway, type TestGateway } from '../helpers/gateway';

const MiB = 2 ** 20;
let gw: TestGateway;

beforeAll(async () => {
  gw = await startGateway();
});
afterAll(() => gw.close());

const images = () => rbd('ls', 'rbd').split('\n').filter(Boolean);
const create = (name: string, size: number) => call(`${gw.url}/function/create-image`, { body: { pool: 'rbd', name, size } });
const remove = (name: string) => call(`${gw.url}/function/delete-image?pool=rbd&name=${name}`, { method: 'DELETE' });

test('50 concurrent creates of one name and size: one image, every answer 201 or 200, one 201', async () => {
  const name = uniqueName('race-same');
  const answers = await Promise.all(Array.from({ length: 50 }, () => create(name, 64 * MiB)));
  const statuses = answers.map((a) => a.status);
  expect(statuses.filter((s) => s === 201)).toHaveLength(1);
  expect(statuses.filter((s) => s === 200)).toHaveLength(49);
  expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
  expect(images().filter((n) => n === name)).toHaveLength(1);
  expect(rbdInfo(`rbd/${name}`).size).toBe(64 * MiB);
  rbd('rm', '--no-progress', `rbd/${name}`);
});

test('50 concurrent creates of one name in five sizes: one image of the winner\'s size; same size 200, other sizes 409', async () => {
  const name = uniqueName('race-mixed');
  const sizes = Array.from({ length: 50 }, (_, i) => (1 + (i % 5)) * 16 * MiB);
  const answers = await Promise.all(sizes.map((size) => create(name, size)));
  const winners = answers.map((a, i) => ({ ...a, size: sizes[i]! })).filter((a) => a.status === 201);
  expect(winners).toHaveLength(1);
  const winnerSize = winners[0]!.size;
  expect(rbdInfo(`rbd/${name}`).size).toBe(winnerSize);
  answers.forEach((a, i) => {
    if (a.status === 201) return;
    if (sizes[i] === winnerSize) {
      expect(a.status).toBe(200);
      expect(a.body.size).toBe(winnerSize);
    } else {
      expect(a.status).toBe(409);
      expect(a.body).toMatchObject({ kind: 'Status', reason: 'AlreadyExists', details: { existingSize: winnerSize, requestedSize: sizes[i] } });
    }
  });
  expect(images().filter((n) => n === name)).toHaveLength(1);
  rbd('rm', '--no-progress', `rbd/${name}`);
});

test('50 concurrent deletes of one image: exactly one 200, the others 404, and the image is gone', async () => {
  const name = uniqueName('race-delete');
  rbd('create', '--size', '64M', `rbd/${name}`);
  const answers = await Promise.all(Array.from({ length: 50 }, () => remove(name)));
  const statuses = answers.map((a) => a.status);
  expect(statuses.filter((s) => s === 200)).toHaveLength(1);
  expect(statuses.filter((s) => s === 404)).toHaveLength(49);
  for (const a of answers.filter((x) => x.status === 404)) expect(a.body).toMatchObject({ kind: 'Status', reason: 'NotFound' });
  expect(images()).not.toContain(name);
});
