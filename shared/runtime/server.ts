/**
 * The function runtime: an express app that fulfils the OpenFaaS workload
 * contract itself (health, readiness, lock file, exec_timeout, max_inflight,
 * drain on SIGTERM) and runs handlers with the (event, context) contract.
 * This module puts the parts together; each lives in its own module.
 */
import type http from 'node:http';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from 'pino';
import { Admission } from './admission';
import { BearerToken } from './auth';
import type { CephConnection } from './connection';
import type { FunctionModule } from './context';
import { contractEndpoints, writeLockFile, type ContractAnswer } from './contract';
import { Deliveries } from './delivery';
import { dispatch, type RouteAdapter } from './dispatch';
import { drain } from './drain';
import type { FunctionEvent } from './handler-types';
import { Invoker, type InvokeResult } from './invoke';
import { listen } from './listen';
import type { Metrics } from './metrics';
import { bodyReader, bodyRefusal, type BodyReader } from './request-body';
import { requestLog } from './request-log';
import { methodNotAllowedError, sendError } from './responses';
import type { RuntimeSettings } from './settings';
import { HttpError } from './status';

export interface RuntimeOptions {
  settings: RuntimeSettings;
  connection: CephConnection;
  metrics: Metrics;
  logger: Logger;
}

export class Runtime {
  /** Callbacks and K_SINK events on their way; the drain waits for them. */
  readonly deliveries: Deliveries;
  private server?: http.Server;
  private readonly drainHooks: (() => Promise<void>)[] = [];
  private readonly admission: Admission;
  private readonly token: BearerToken;
  private readonly readBody: BodyReader;
  private readonly invoker: Invoker;
  /** Paths a mount adds to the contract's own (serveContract). */
  private readonly contractPaths = new Map<string, ContractAnswer>();

  constructor(readonly options: RuntimeOptions) {
    const { settings, connection, metrics, logger } = options;
    this.readBody = bodyReader(settings.maxBodyBytes);
    this.token = new BearerToken(settings.apiToken, settings.authMissing);
    this.admission = new Admission(settings.maxInflight, metrics);
    this.deliveries = new Deliveries(settings.async, logger);
    this.invoker = new Invoker({ settings, connection, logger, deliveries: this.deliveries });
  }

  /** An app with the runtime's own routes; the caller adds function routes. */
  createApp(): express.Express {
    const { settings, connection, metrics, logger } = this.options;
    const app = express();
    app.disable('x-powered-by');
    app.set('etag', false);
    app.use(requestLog(metrics, logger));
    app.use(contractEndpoints({ admission: this.admission, connection, metrics, notServing: settings.authMissing }, this.contractPaths));
    return app;
  }

  /** Answers GET `path` beside health, readiness and metrics: no token, and no route layer of its own. */
  serveContract(path: string, answer: ContractAnswer): void {
    this.contractPaths.set(path.toLowerCase(), answer);
  }

  /** Adds the final handlers: 404 for unknown routes and the error mapper. */
  finishApp(app: express.Express): void {
    app.use((req, _res, next) => next(new HttpError(404, 'NotFound', `No route for ${req.method} ${req.path}.`)));
    app.use(this.errorHandler);
  }

  /**
   * The handler that runs one function for a request: token, method,
   * max_inflight, body, then the call. One handler rather than a chain of
   * middleware, since each router layer costs every request.
   */
  functionRoute(name: string, mod: FunctionModule, adapter: RouteAdapter = {}): RequestHandler[] {
    const methods = adapter.methods ?? [...new Set([...mod.methods, 'POST'])];
    return [
      (req, res, next) => {
        res.locals.functionName = name;
        res.locals.respond = adapter.respond;
        const refused =
          this.token.refuse(req, res) ?? (methods.includes(req.method) ? undefined : methodNotAllowedError(req, methods)) ?? this.admission.admit(res);
        if (refused) return next(refused);
        this.readBody(req, res, (err?: unknown) => {
          if (err) return next(err);
          dispatch(this.invoker, name, mod, req, res, adapter).catch(next);
        });
      },
    ];
  }

  /** Token check and JSON body parsing, for routes that take calls without running them now (async). */
  intake(): RequestHandler[] {
    return [(req, res, next) => next(this.token.refuse(req, res)), (req, res, next) => this.readBody(req, res, next)];
  }

  get isDraining(): boolean {
    return this.admission.draining;
  }

  /** Work the drain waits for, next to the in-flight requests (e.g. the async queue). */
  onDrain(hook: () => Promise<void>): void {
    this.drainHooks.push(hook);
  }

  /** Runs one function call to its answer (see invoke.ts). */
  invoke(name: string, mod: FunctionModule, event: FunctionEvent, callId: string): Promise<InvokeResult> {
    return this.invoker.invoke(name, mod, event, callId);
  }

  async listen(app: express.Express, port = this.options.settings.port, host?: string): Promise<http.Server> {
    this.server = await listen(app, port, host);
    return this.server;
  }

  /** Writes the lock file that the watchdog's exec probe checks. */
  writeLockFile(): void {
    writeLockFile(this.options.settings.lockFile);
  }

  /** SIGTERM: see drain.ts. */
  drain(): Promise<void> {
    const { settings, connection, logger } = this.options;
    return drain({ admission: this.admission, server: this.server, hooks: this.drainHooks, deliveries: this.deliveries, connection, settings, logger });
  }

  private readonly errorHandler = (err: unknown, _req: Request, res: Response, _next: NextFunction): void => {
    sendError(res, bodyRefusal(err, this.options.settings.maxBodyBytes), this.options.logger.child({ callId: res.locals.callId }));
  };
}
