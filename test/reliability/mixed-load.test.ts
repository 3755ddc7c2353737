/**
 * Mixed load with no loss: 2,000 creates, deletes, resizes, snapshot creates
 * and deletes, gets and listings at concurrency 32 over random names, through
 * one gateway, in a namespace of their own. Operations on one name never overlap (same-name races are
 * races.test.ts's), so each name's answers form a history, and the rbd CLI's
 * view at the end must be exactly what the answers reported.
 */
import { randomInt } from 'node:crypto';
import { rbd, rbdAsync, uniqueName } from '../helpers/ceph';
import { call, startGateway, type TestGateway } from '../helpers/gateway';

const OPERATIONS = 2000;
const CONCURRENCY = 32;
const NAMES = 240;
const MiB = 2 ** 20;
const POOL = 'rbd';

interface NameState {
  /** What the answers so far say: the image exists (after a 201/200 create) or not. */
  exists: boolean;
  /** The size it is created with, and the size the answers say it has now (resizes grow it). */
  createSize: number;
  size: number;
  /** Its snapshots, as the answers report them. */
  snapshots: Set<string>;
  busy: boolean;
  /** Bumped when an operation starts and when it ends, to spot quiet names. */
  version: number;
}

let gw: TestGateway;
let namespace: string;

beforeAll(async () => {
  namespace = uniqueName('mixed');
  rbd('namespace', 'create', `${POOL}/${namespace}`);
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.close();
  const left = rbd('ls', `${POOL}/${namespace}`).split('\n').filter(Boolean);
  const removeAll = async (name: string) => {
    await rbdAsync('snap', 'purge', '--no-progress', `${POOL}/${namespace}/${name}`);
    await rbdAsync('rm', '--no-progress', `${POOL}/${namespace}/${name}`);
  };
  for (let i = 0; i < left.length; i += 16) await Promise.all(left.slice(i, i + 16).map(removeAll));
  rbd('namespace', 'remove', `${POOL}/${namespace}`);
});

/** Random names that the validation accepts: 1-40 characters, unicode and punctuation among them. */
function randomName(): string {
  const alphabet = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.+%#?&=:,;~!$()[]{}\'"', 'é', 'ß', 'Ω', 'ж', '日', '本', '🙂'];
  const length = 1 + randomInt(40);
  let name = '';
  for (let i = 0; i < length; i++) name += alphabet[randomInt(alphabet.length)];
  return name;
}

test(`${OPERATIONS} creates, deletes, resizes, snapshots, gets and listings at concurrency ${CONCURRENCY}: no 5xx, nothing lost, nothing unreported`, async () => {
  const states = new Map<string, NameState>();
  while (states.size < NAMES) {
    const size = (1 + randomInt(64)) * MiB;
    states.set(randomName(), { exists: false, createSize: size, size, snapshots: new Set(), busy: false, version: 0 });
  }
  const names = [...states.keys()];
  const statuses: Record<string, number> = {};
  const unexpected: string[] = [];
  const count = (op: string, status: number) => {
    const key = `${op} ${status}`;
    statuses[key] = (statuses[key] ?? 0) + 1;
  };
  const body = (name: string, extra: object = {}) => ({ pool: POOL, namespace, name, ...extra });

  const wrong = (what: string, state: NameState, answer: { status: number; body: unknown }) =>
    unexpected.push(`${what} (exists: ${state.exists}, size ${state.size}, snapshots ${[...state.snapshots]}) answered ${answer.status} ${JSON.stringify(answer.body)}`);

  async function create(name: string, state: NameState): Promise<void> {
    const answer = await call(`${gw.url}/function/create-image`, { body: body(name, { size: state.createSize }) });
    count('create', answer.status);
    if (answer.status === 201 && !state.exists) {
      state.exists = true;
      state.size = state.createSize;
      state.snapshots.clear();
    } else if (answer.status === 200 && state.exists && state.size === state.createSize) {
      if (answer.body.size !== state.size) unexpected.push(`create ${name} answered 200 with size ${answer.body.size}, not ${state.size}`);
    } else if (!(answer.status === 409 && state.exists && state.size !== state.createSize)) wrong(`create ${name}`, state, answer);
  }

  async function remove(name: string, state: NameState): Promise<void> {
    const answer = await call(`${gw.url}/function/delete-image`, { body: body(name) });
    count('delete', answer.status);
    if (answer.status === 409 && answer.body.reason === 'HasSnapshots' && state.snapshots.size > 0) return;
    if ((answer.status === 200 && state.exists && state.snapshots.size === 0) || (answer.status === 404 && !state.exists)) state.exists = false;
    else wrong(`delete ${name}`, state, answer);
  }

  async function resize(name: string, state: NameState): Promise<void> {
    const size = state.size + randomInt(2) * MiB; // grow by 1 MiB, or the same size
    const answer = await call(`${gw.url}/function/resize-image`, { body: body(name, { size }) });
    count('resize', answer.status);
    if (answer.status === 200 && state.exists && answer.body.size === size) state.size = size;
    else if (!(answer.status === 404 && !state.exists)) wrong(`resize ${name} to ${size}`, state, answer);
  }

  async function snapshot(name: string, state: NameState, op: 'create-snapshot' | 'delete-snapshot'): Promise<void> {
    const snap = `s${randomInt(3)}`;
    const answer = await call(`${gw.url}/function/${op}`, { body: { pool: POOL, namespace, image: name, snapshot: snap } });
    count(op, answer.status);
    const had = state.exists && state.snapshots.has(snap);
    if (op === 'create-snapshot' && state.exists && answer.status === (had ? 200 : 201) && (had || answer.body.size === state.size)) state.snapshots.add(snap);
    else if (op === 'delete-snapshot' && answer.status === (had ? 200 : 404)) state.snapshots.delete(snap);
    else if (!(answer.status === 404 && !state.exists)) wrong(`${op} ${name}@${snap}`, state, answer);
  }

  async function get(name: string, state: NameState): Promise<void> {
    const answer = await call(`${gw.url}/function/get-image`, { body: body(name) });
    count('get', answer.status);
    const right = state.exists
      ? answer.status === 200 && answer.body.size === state.size && answer.body.snapshots === state.snapshots.size
      : answer.status === 404;
    if (!right) wrong(`get ${name}`, state, answer);
  }

  /** A listing must show every quiet image (no operation on it from start to end) and no quiet absent name. */
  async function list(): Promise<void> {
    const before = new Map(names.map((n) => [n, { ...states.get(n)! }]));
    const answer = await call(`${gw.url}/function/list-images?pool=${POOL}&namespace=${namespace}`);
    count('list', answer.status);
    if (answer.status !== 200) return void unexpected.push(`list answered ${answer.status} ${JSON.stringify(answer.body)}`);
    const listed = new Set((answer.body.items as { name: string }[]).map((i) => i.name));
    for (const name of listed) if (!states.has(name)) unexpected.push(`list showed ${name}, which no request made`);
    for (const [name, was] of before) {
      const now = states.get(name)!;
      if (was.busy || now.version !== was.version) continue;
      if (now.exists !== listed.has(name)) unexpected.push(`list: quiet ${name} exists=${now.exists} but listed=${listed.has(name)}`);
    }
  }

  let issued = 0;
  async function worker(): Promise<void> {
    while (issued < OPERATIONS) {
      issued++;
      const roll = randomInt(100);
      if (roll < 15) {
        await list();
        continue;
      }
      // A random name with nothing in flight; one always exists (240 names, 32 workers).
      let name = names[randomInt(NAMES)]!;
      while (states.get(name)!.busy) name = names[randomInt(NAMES)]!;
      const state = states.get(name)!;
      state.busy = true;
      state.version++;
      try {
        if (roll < 45) await create(name, state);
        else if (roll < 65) await remove(name, state);
        else if (roll < 73) await resize(name, state);
        else if (roll < 83) await snapshot(name, state, 'create-snapshot');
        else if (roll < 91) await snapshot(name, state, 'delete-snapshot');
        else await get(name, state);
      } finally {
        state.busy = false;
        state.version++;
      }
    }
  }

  const started = Date.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (Date.now() - started) / 1000;

  expect(unexpected).toEqual([]);
  expect(Object.keys(statuses).filter((key) => Number(key.split(' ')[1]) >= 500)).toEqual([]);
  const total = Object.values(statuses).reduce((a, b) => a + b, 0);
  expect(total).toBe(OPERATIONS);

  // The CLI's view: exactly the images the answers left existing, with their sizes and snapshots.
  const actual = JSON.parse(rbd('ls', '-l', '--format', 'json', `${POOL}/${namespace}`)) as { image: string; snapshot?: string; size: number }[];
  const expected = names.filter((n) => states.get(n)!.exists).sort();
  expect(actual.filter((i) => !i.snapshot).map((i) => i.image).sort()).toEqual(expected);
  for (const image of actual.filter((i) => !i.snapshot)) expect(image.size).toBe(states.get(image.image)!.size);
  const snapshotsOf = (name: string) => actual.filter((i) => i.image === name && i.snapshot).map((i) => i.snapshot!).sort();
  for (const name of expected) expect([name, snapshotsOf(name)]).toEqual([name, [...states.get(name)!.snapshots].sort()]);
  process.stderr.write(
    `mixed load: ${total} operations in ${seconds.toFixed(1)} s at concurrency ${CONCURRENCY} (${(total / seconds).toFixed(0)}/s): ${JSON.stringify(statuses)}; ` +
      `${expected.length} images at the end, all of them reported, none lost\n`,
  );
}, 300_000);
