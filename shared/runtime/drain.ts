/**
 * SIGTERM: health turns 503, in-flight requests finish (bounded by
 * exec_timeout), then the server closes and the Ceph handle with it. Until
 * then it keeps listening: a request routed here before the endpoints
 * caught up gets a 503 it can retry elsewhere, not a refused connection.
 */
import type http from 'node:http';
import type { Logger } from 'pino';
import type { Admission } from './admission';
import type { CephConnection } from './connection';
import { removeLockFile } from './contract';
import type { Deliveries } from './delivery';
import type { RuntimeSettings } from './settings';

export interface DrainTargets {
  admission: Admission;
  /** Undefined when the process never listened. */
  server?: http.Server;
  /** Work to wait for next to the in-flight requests (e.g. the async queue). */
  hooks: readonly (() => Promise<void>)[];
  deliveries: Deliveries;
  connection: CephConnection;
  settings: RuntimeSettings;
  logger: Logger;
}

/** Drains once; a second call (a second signal) returns at once. */
export async function drain({ admission, server, hooks, deliveries, connection, settings, logger }: DrainTargets): Promise<void> {
  if (!admission.startDraining()) return;
  logger.info({ inflight: admission.inflight }, 'draining');
  await Promise.all([server && closeServer(server, admission, settings.execTimeoutMs), ...hooks.map((hook) => hook())]);
  // Callbacks and events may still be retrying; give them their retries' worth.
  const { retries, backoffMs, timeoutMs } = settings.async;
  const undelivered = await deliveries.settle((retries + 1) * timeoutMs + backoffMs * 2 ** retries);
  if (undelivered) logger.error({ undelivered }, 'deliveries still pending at exit');
  await connection.close();
  removeLockFile(settings.lockFile);
  logger.info('drained');
}

async function closeServer(server: http.Server, admission: Admission, execTimeoutMs: number): Promise<void> {
  const deadline = Date.now() + execTimeoutMs + 1000;
  while (admission.inflight > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
  // A request still being read is answered 503 with "Connection: close";
  // idle keep-alive sockets go now, anything left at the deadline too.
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const idle = setInterval(() => server.closeIdleConnections(), 50);
  const hard = setTimeout(() => server.closeAllConnections(), Math.max(0, deadline - Date.now()) + 1000);
  await closed;
  clearInterval(idle);
  clearTimeout(hard);
}
