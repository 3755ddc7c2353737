/**
 * The process's one Ceph connection: made at start-up with retry and
 * backoff, checked periodically, and replaced if it stops working, so the
 * runtime recovers by itself when a cluster goes away and comes back.
 *
 * Ready means connected. Monitors that stop answering later do not make the
 * process unready: image calls go straight to the OSDs from cached maps and
 * keep working, and every replica would lose its readiness at once. They are
 * reported apart (monitorsReachable) and calls that need them answer 503.
 */
import type { Logger } from 'pino';
import { CephClient, type OperationObserver } from '../ceph/client';
import { loadCephConfig, type CephConfig } from '../config';
import { CephError, isCodedError, type CodedError } from '../errors';

export interface ConnectionOptions {
  loadConfig?: () => CephConfig;
  maxImageSize: number;
  observe?: OperationObserver;
  logger: Logger;
  /** How often a connected client is checked. Default 5 s. */
  checkIntervalMs?: number;
  /** Longest wait between connect attempts. Default 2 s, so a returning cluster is found within seconds. */
  maxBackoffMs?: number;
  onReadyChange?: (ready: boolean) => void;
  onMonitorsChange?: (reachable: boolean) => void;
}

const FIRST_BACKOFF_MS = 250;
// Errors a fresh handle may cure; timeouts are left to librados, which keeps
// hunting for monitors on its own.
const RECONNECT_ON = new Set(['ESHUTDOWN', 'ENOTCONN', 'EACCES', 'EPERM', 'ERR_CEPH_AUTH_FAILED']);

export class CephConnection {
  private client?: CephClient;
  private connecting?: Promise<void>;
  private lastError?: CodedError;
  private isReady = false;
  private monitors = true;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private backoffMs = FIRST_BACKOFF_MS;

  constructor(private readonly options: ConnectionOptions) {}

  get ready(): boolean {
    return this.isReady;
  }

  /** False while the periodic check's call to the monitors times out or fails. */
  get monitorsReachable(): boolean {
    return this.monitors;
  }

  /** Starts connecting in the background; resolves after the first attempt. */
  start(): Promise<void> {
    return this.connect();
  }

  /**
   * The client, once connected. Before that, waits for an attempt in
   * progress; after a failure, throws the diagnosed error (a 503).
   */
  async get(): Promise<CephClient> {
    if (this.client) return this.client;
    if (this.connecting && !this.lastError) await this.connecting;
    if (this.client) return this.client;
    throw (
      this.lastError ??
      new CephError('ENOTCONN', 'Not connected to Ceph yet; the runtime is still connecting. Retry shortly.')
    );
  }

  /** Stops the retry and check loops and closes the client. Idempotent. */
  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.connecting?.catch(() => undefined);
    const client = this.client;
    this.client = undefined;
    this.setReady(false);
    await client?.close();
  }

  private connect(): Promise<void> {
    this.connecting ??= this.attempt().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async attempt(): Promise<void> {
    const { logger } = this.options;
    try {
      const config = (this.options.loadConfig ?? loadCephConfig)();
      const client = await CephClient.connect(config, { maxImageSize: this.options.maxImageSize, observe: this.options.observe, deadline: true });
      if (this.stopped) {
        await client.close();
        return;
      }
      this.client = client;
      this.lastError = undefined;
      this.backoffMs = FIRST_BACKOFF_MS;
      this.setMonitors(true);
      this.setReady(true);
      logger.info({ fsid: client.info.fsid, monHost: client.info.monHost }, 'connected to Ceph');
      this.schedule(this.options.checkIntervalMs ?? 5000, () => this.check());
    } catch (err) {
      // A setting refused while loading the config (CEPH_ID, CEPH_TIMEOUT_SECONDS) is kept as it is: its message names it.
      this.lastError = isCodedError(err) ? err : new CephError('ERR_CEPH_CONNECT_FAILED', String(err));
      this.setReady(false);
      logger.warn({ code: this.lastError.code, retryInMs: this.backoffMs }, this.lastError.message);
      this.schedule(this.backoffMs, () => this.connect());
      this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? 2000);
    }
  }

  /** A cheap call that needs the monitors; a handle that is no use is replaced. */
  private async check(): Promise<void> {
    const client = this.client;
    if (!client) return;
    try {
      await client.listPools();
      this.setMonitors(true);
    } catch (err) {
      if (this.stopped) return;
      const code = (err as CephError).code;
      this.options.logger.warn({ code }, `Ceph health check failed: ${(err as Error).message}`);
      if (RECONNECT_ON.has(String(code))) {
        this.setReady(false);
        this.client = undefined;
        void client.close();
        this.lastError = err as CephError;
        return void this.connect();
      }
      // Only the monitors' own silence: a call that timed out waiting for a
      // thread (OSD calls holding them all) says nothing about them.
      if (code === 'ERR_CEPH_MON_UNREACHABLE') this.setMonitors(false);
    }
    this.schedule(this.options.checkIntervalMs ?? 5000, () => this.check());
  }

  private schedule(ms: number, run: () => unknown): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(run, ms);
    this.timer.unref();
  }

  private setMonitors(reachable: boolean): void {
    if (reachable === this.monitors) return;
    this.monitors = reachable;
    if (reachable) this.options.logger.info('Ceph monitors answer again');
    this.options.onMonitorsChange?.(reachable);
  }

  private setReady(ready: boolean): void {
    if (ready === this.isReady) return;
    this.isReady = ready;
    this.options.onReadyChange?.(ready);
  }
}
