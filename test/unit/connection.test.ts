/**
 * CephConnection's state machine with a fake client: what makes the process
 * unready (no usable handle) and what only marks the monitors unreachable.
 */
import pino from 'pino';
import { CephClient } from '../../shared/ceph/client';
import { CephError } from '../../shared/errors';
import { CephConnection } from '../../shared/runtime/connection';

const config = () => ({ id: 'admin', timeoutSeconds: 1, sources: {} });
/** Polls until check() holds (a busy machine may run the 10 ms timers late); fails after 2 s. */
async function until(check: () => boolean): Promise<void> {
  for (const started = Date.now(); !check(); await new Promise((resolve) => setTimeout(resolve, 5))) {
    if (Date.now() - started > 2000) throw new Error(`not true within 2 s: ${check}`);
  }
}

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
  await until(() => !connection.monitorsReachable);
  expect(connection.ready).toBe(true);
  expect(await connection.get()).toBe(client);
  monitorsUp = true;
  await until(() => connection.monitorsReachable);
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
  await until(() => connectSpy.mock.calls.length === 2 && connection.ready);
  expect((broken.close as jest.Mock).mock.calls.length).toBe(1);
  expect(connection.ready).toBe(true);
  expect(await connection.get()).toBe(healthy);
  expect(changes).toEqual(['ready=true', 'ready=false', 'ready=true']);
});

test('a check that timed out queued behind other calls (no ERR_CEPH_MON_UNREACHABLE) does not blame the monitors', async () => {
  let checks = 0;
  const client = fakeClient(async () => {
    checks++;
    throw new CephError('ETIMEDOUT', 'Ceph did not answer');
  });
  const { connection } = connect([client]);
  await connection.start();
  await until(() => checks >= 3);
  expect(connection.monitorsReachable).toBe(true);
  expect(connection.ready).toBe(true);
});

test('no connection at start: unready with the diagnosis, and retried until one succeeds', async () => {
  const { connection, connectSpy } = connect([]);
  await connection.start();
  expect(connection.ready).toBe(false);
  await expect(connection.get()).rejects.toMatchObject({ code: 'ERR_CEPH_MON_UNREACHABLE' });
  await until(() => connectSpy.mock.calls.length > 2); // the first retry waits 250 ms, later ones maxBackoffMs
});
