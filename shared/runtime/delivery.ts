/**
 * At-least-once-ish HTTP delivery for what the runtime sends on its own:
 * async callbacks and events to K_SINK. Retries with doubling backoff, never
 * blocks the caller's answer, logs the final failure with the call id, and
 * lets the drain wait for what is still on its way.
 */
import type { Logger } from 'pino';
import type { AsyncSettings } from './settings';

export interface Outgoing {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** Worth another try: no answer, or an answer that says "later". */
function retryable(status: number | undefined): boolean {
  return status === undefined || status === 408 || status === 429 || status >= 500;
}

export class Deliveries {
  private readonly pending = new Set<Promise<boolean>>();

  constructor(
    private readonly settings: Pick<AsyncSettings, 'retries' | 'backoffMs' | 'timeoutMs'>,
    private readonly logger: Logger,
  ) {}

  /** POSTs now and retries in the background; resolves true once delivered, false when given up. */
  send(what: string, message: Outgoing, context: Record<string, unknown>): Promise<boolean> {
    const attempt = this.deliver(what, message, context);
    this.pending.add(attempt);
    void attempt.finally(() => this.pending.delete(attempt));
    return attempt;
  }

  /** Waits for every delivery under way, at most timeoutMs; resolves how many were still pending. */
  async settle(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending.size > 0 && Date.now() < deadline) {
      let timer: NodeJS.Timeout | undefined;
      const wait = new Promise((resolve) => (timer = setTimeout(resolve, deadline - Date.now())));
      await Promise.race([Promise.allSettled([...this.pending]), wait]);
      clearTimeout(timer);
    }
    return this.pending.size;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  private async deliver(what: string, message: Outgoing, context: Record<string, unknown>): Promise<boolean> {
    const { retries, backoffMs, timeoutMs } = this.settings;
    const log = this.logger.child({ ...context, url: message.url });
    let last = '';
    let attempts = 0;
    for (let attempt = 0; attempt <= retries; attempt++) {
      attempts++;
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, backoffMs * 2 ** (attempt - 1)));
      let status: number | undefined;
      try {
        const res = await fetch(message.url, {
          method: 'POST',
          headers: message.headers,
          body: message.body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        await res.arrayBuffer().catch(() => undefined);
        status = res.status;
        if (res.ok) {
          if (attempt > 0) log.info({ attempts: attempt + 1 }, `${what} delivered after retries`);
          return true;
        }
        last = `HTTP ${res.status}`;
      } catch (err) {
        last = (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : String((err as Error).cause ?? (err as Error).message);
      }
      if (!retryable(status)) break;
      if (attempt < retries) log.warn({ attempt: attempt + 1, error: last }, `${what} failed; retrying`);
    }
    log.error({ error: last, attempts }, `${what} failed; giving up`);
    return false;
  }
}
