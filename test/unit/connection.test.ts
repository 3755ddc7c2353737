/**
 * CephConnection's state machine with a fake client: what makes the process
 * unready (no usable handle) and what only marks the monitors unreachable.
 */
import pino from 'pino';
import { CephClient } from '../../shared/ceph/client';
import { CephError } from '../../shared/errors';
import { CephConnection } from '../../shared/runtime/connection';

const config = () => ({ id: 'admin', timeoutSeconds: 1, sources: {} });
const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function fakeClient(listPools: () => Promise<unknown>) {
  return { info: { fsid: 'f', monHost: 'm' }, listPools, close: jest.fn(async () => undefined) } as unknown as CephClient;
}

let connection: CephConnection | undefined;
afterEach(async () => {
  await connection?.close();
  jest.restoreAllMocks();
});

function connect(clients: CephClient[]) {
  const connectSpy = jest.spyOn(CephClient, 'connect').mockImplementation(async () => {
    const next = clients.shift();
    if (!next) throw new CephError('ERR_CEPH_MON_UNREACHABLE', 'no monitor');
    return next;
  });
  const changes: string[] = [];
  connection = new CephConnection({
    loadConfig: config,
    maxImageSize: 1,
    logger: pino({ level: 'silent' }),
    checkIntervalMs: 10,
    maxBackoffMs: 10,
    onReadyChange: (ready) => changes.push(`ready=${ready}`),
    onMonitorsChange: (reachable) => changes.push(`monitors=${reachable}`),
  });
  return { connection, connectSpy, changes };
}

test('monitors timing out keep the process ready and are reported apart; it clears when they answer', async () => {
  let monitorsUp = true;
  const client = fakeClient(async () => {
    if (!monitorsUp) throw new CephError('ERR_CEPH_MON_UNREACHABLE', 'no monitor answered');
    return [];
  });
  const { connection, connectSpy, changes } = connect([client]);
  await connection.start();
  expect(connection.ready).toBe(true);
  monitorsUp = false;
  await tick(50);
  expect(connection.ready).toBe(true);
  expect(connection.monitorsReachable).toBe(false);
  expect(await connection.get()).toBe(client);
  monitorsUp = true;
  await tick(50);
  expect(connection.monitorsReachable).toBe(true);
  expect(changes).toEqual(['ready=true', 'monitors=false', 'monitors=true']);
  expect(connectSpy).toHaveBeenCalledTimes(1); // the handle was kept
});

test('a handle that is shut down or refused makes the process unready and is replaced', async () => {
  const broken = fakeClient(async () => {
    throw new CephError('ESHUTDOWN', 'closed');
  });
  const healthy = fakeClient(async () => []);
  const { connection, connectSpy, changes } = connect([broken, healthy]);
  await connection.start();
  await tick(80);
  expect(connectSpy).toHaveBeenCalledTimes(2);
  expect((broken.close as jest.Mock).mock.calls.length).toBe(1);
  expect(connection.ready).toBe(true);
  expect(await connection.get()).toBe(healthy);
  expect(changes).toEqual(['ready=true', 'ready=false', 'ready=true']);
});

test('no connection at start: unready with the diagnosis, and retried until one succeeds', async () => {
  const { connection, connectSpy } = connect([]);
  await connection.start();
  expect(connection.ready).toBe(false);
  await expect(connection.get()).rejects.toMatchObject({ code: 'ERR_CEPH_MON_UNREACHABLE' });
  await tick(400); // the first retry waits 250 ms, later ones maxBackoffMs
  expect(connectSpy.mock.calls.length).toBeGreaterThan(2);
});
