/**
 * OpenFaaS-style async calls in the local gateway: POST /async-function/<name>
 * answers 202 with X-Call-Id, the call runs later (as POST, like the
 * queue-worker's), and its answer is POSTed to X-Callback-Url with
 * X-Call-Id, X-Function-Status, X-Function-Name and X-Duration-Seconds.
 * The queue is bounded (429 when full), and on SIGTERM every accepted call
 * is either run or reported to its callback: none is dropped silently.
 */
import type express from 'express';
import type { Logger } from 'pino';
import type { FunctionEvent, FunctionModule } from '../runtime/context';
import type { Metrics } from '../runtime/metrics';
import { RawJson } from '../runtime/raw-json';
import { eventOf } from '../runtime/dispatch';
import type { InvokeResult } from '../runtime/invoke';
import { methodNotAllowed, sendStatus } from '../runtime/responses';
import type { Runtime } from '../runtime/server';
import { parseUrl, type AsyncSettings } from '../runtime/settings';
import { HttpError, failure } from '../runtime/status';

interface Job {
  name: string;
  mod: FunctionModule;
  event: FunctionEvent;
  callId: string;
  callbackUrl?: string;
  queuedAt: number;
}

export class AsyncQueue {
  private readonly waiting: Job[] = [];
  private running = 0;
  private idle: (() => void)[] = [];

  constructor(
    private readonly runtime: Runtime,
    private readonly settings: AsyncSettings,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {}

  get depth(): number {
    return this.waiting.length;
  }

  /** Takes a call if there is room; false when the queue is full. */
  offer(job: Job): boolean {
    if (this.waiting.length >= this.settings.queueSize) return false;
    this.waiting.push(job);
    this.metrics.asyncQueued.set(this.waiting.length);
    this.pump();
    return true;
  }

  /**
   * SIGTERM: queued calls keep running until drainMs; those still waiting
   * then are reported to their callbacks as not run (503). Running calls
   * finish (exec_timeout bounds them), and their callbacks go out.
   */
  async drain(): Promise<void> {
    const deadline = new Promise<'deadline'>((resolve) => setTimeout(() => resolve('deadline'), this.settings.drainMs).unref());
    if ((await Promise.race([this.whenIdle(), deadline])) === 'deadline') {
      const left = this.waiting.splice(0);
      this.metrics.asyncQueued.set(0);
      for (const job of left) this.report(job);
      await this.whenIdle();
    }
  }

  private whenIdle(): Promise<void> {
    if (this.running === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    while (this.running < this.settings.concurrency && this.waiting.length > 0) {
      const job = this.waiting.shift()!;
      this.metrics.asyncQueued.set(this.waiting.length);
      this.running++;
      void this.run(job).finally(() => {
        this.running--;
        this.pump();
        if (this.running === 0 && this.waiting.length === 0) for (const resolve of this.idle.splice(0)) resolve();
      });
    }
  }

  private async run(job: Job): Promise<void> {
    const result = await this.runtime.invoke(job.name, job.mod, job.event, job.callId);
    this.metrics.asyncCalls.inc({ function: job.name, status: result.status });
    this.finish(job, result);
  }

  private report(job: Job): void {
    const status = failure(503, 'ServiceUnavailable', `Not run: the gateway shut down before this call's turn (queued ${((Date.now() - job.queuedAt) / 1000).toFixed(1)} s). Submit it again.`);
    this.logger.error({ function: job.name, callId: job.callId, callbackUrl: job.callbackUrl }, 'async call not run: shutting down');
    this.metrics.asyncCalls.inc({ function: job.name, status: 503 });
    this.finish(job, { status: 503, headers: {}, body: status, seconds: 0, changed: false });
  }

  private finish(job: Job, result: InvokeResult): void {
    const context = { function: job.name, callId: job.callId, status: result.status, durationSeconds: +result.seconds.toFixed(6) };
    if (!job.callbackUrl) {
      this.logger[result.status >= 500 ? 'error' : 'info'](context, 'async call done (no callback)');
      return;
    }
    const body = result.body === undefined ? '' : result.body instanceof RawJson ? result.body.bytes.toString('utf8') : JSON.stringify(result.body);
    const headers: Record<string, string> = {
      ...result.headers,
      'Content-Type': 'application/json',
      'X-Call-Id': job.callId,
      'X-Function-Status': String(result.status),
      'X-Function-Name': job.name,
      'X-Duration-Seconds': result.seconds.toFixed(6),
    };
    void this.runtime.deliveries.send('async callback', { url: job.callbackUrl, headers, body }, context).then((ok) => {
      this.metrics.callbacks.inc({ outcome: ok ? 'delivered' : 'failed' });
    });
  }
}

/** Mounts /async-function/<name>[/<path>] for every function. */
export function mountAsync(app: express.Express, runtime: Runtime, functions: Map<string, FunctionModule>): AsyncQueue {
  const { settings, metrics, logger } = runtime.options;
  const queue = new AsyncQueue(runtime, settings.async, metrics, logger.child({ component: 'async' }));
  runtime.onDrain(() => queue.drain());

  app.post('/async-function/:name{/*rest}', ...runtime.intake(), (req, res) => {
    const name = req.params.name as string;
    const mod = functions.get(name);
    if (!mod) throw new HttpError(404, 'NotFound', `No function "${name}"; there are ${[...functions.keys()].join(', ')}.`);
    res.locals.functionName = name;
    const header = req.get('X-Callback-Url');
    let callbackUrl: string | undefined;
    if (header !== undefined) {
      try {
        callbackUrl = parseUrl('X-Callback-Url', header);
      } catch (err) {
        throw new HttpError(400, 'BadRequest', (err as Error).message, { header: 'X-Callback-Url' });
      }
    }
    if (runtime.isDraining) throw new HttpError(503, 'ServiceUnavailable', 'The gateway is shutting down and takes no new async calls; submit to another replica.');
    const callId = res.locals.callId as string;
    const prefix = `/async-function/${name}`;
    // The queue-worker always calls with POST.
    const event = { ...eventOf(req, { path: (r) => r.path.slice(prefix.length) || '/' }), method: 'POST' };
    if (!queue.offer({ name, mod, event, callId, callbackUrl, queuedAt: Date.now() })) {
      res.setHeader('Retry-After', '1');
      return sendStatus(res, failure(429, 'TooManyRequests', `The async queue is full (${settings.async.queueSize} calls waiting, RBD_ASYNC_QUEUE_SIZE); retry shortly.`));
    }
    res.status(202).end();
  });
  app.all('/async-function/:name{/*rest}', methodNotAllowed(['POST']));
  return queue;
}
