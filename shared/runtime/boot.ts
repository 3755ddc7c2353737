/**
 * Starts a runtime process: settings, logger, metrics, the Ceph connection,
 * the HTTP server, and the SIGTERM drain. Used by a standalone function and
 * by the local gateway alike.
 */
import type http from 'node:http';
import type express from 'express';
import type { Logger } from 'pino';
import type { CephConfig } from '../config';
import { CephConnection } from './connection';
import { createLogger } from './logger';
import { Metrics } from './metrics';
import type { Runtime } from './server';
import { loadRuntimeSettings, type RuntimeSettings } from './settings';

export interface BootOptions {
  /** The logger's name: the function's, or "gateway". */
  name: string;
  /** Adds the process's routes to the app. */
  mount: (app: express.Express, runtime: Runtime) => void;
  /** Overrides where the Ceph config comes from (default: env, secrets, /etc/ceph). */
  loadConfig?: () => CephConfig;
  settings?: RuntimeSettings;
  logger?: Logger;
  /** Listen on this host. Default all interfaces. */
  host?: string;
  /** Exit the process once drained after SIGTERM/SIGINT. Default true. */
  handleSignals?: boolean;
}

export interface Booted {
  runtime: Runtime;
  connection: CephConnection;
  server: http.Server;
  port: number;
  logger: Logger;
}

export async function boot(options: BootOptions): Promise<Booted> {
  const settings = options.settings ?? loadRuntimeSettings();
  const logger = options.logger ?? createLogger(options.name);
  const metrics = new Metrics();
  let runtime: Runtime | undefined;
  const connection = new CephConnection({
    loadConfig: options.loadConfig,
    maxImageSize: settings.maxImageSize,
    observe: metrics.observeCeph,
    logger,
    checkIntervalMs: settings.checkIntervalMs,
    onReadyChange: (ready) => {
      metrics.cephReady.set(ready ? 1 : 0);
      // No lock file while refusing to serve: the exec probe must fail too.
      if (ready && !settings.authMissing) runtime?.writeLockFile();
    },
    onMonitorsChange: (reachable) => metrics.cephMonitorsReachable.set(reachable ? 1 : 0),
  });
  // The handshake runs on the libuv pool: start it, then load the HTTP stack
  // (express and its tree, the slowest part of a cold start) meanwhile.
  // Nothing awaits before the runtime exists, so onReadyChange finds it.
  void connection.start(); // the lock file is written when it first connects
  const { Runtime } = require('./server') as typeof import('./server');
  runtime = new Runtime({ settings, connection, metrics, logger });
  const app = runtime.createApp();
  options.mount(app, runtime);
  runtime.finishApp(app);
  const server = await runtime.listen(app, settings.port, options.host);
  const port = (server.address() as { port: number }).port;
  logger.info({ port, execTimeoutMs: settings.execTimeoutMs, maxInflight: settings.maxInflight }, 'listening');
  if (settings.authMissing) logger.error({ reason: settings.authMissing }, 'refusing to serve: not ready until restarted with a token');

  if (options.handleSignals !== false) {
    const stop = (signal: string) => {
      logger.info({ signal }, 'stopping');
      runtime!.drain().then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'drain failed');
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  }
  return { runtime, connection, server, port, logger };
}
