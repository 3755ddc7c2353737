/**
 * The function runtime: an express app that fulfils the OpenFaaS workload
 * contract itself (health, readiness, lock file, exec_timeout, max_inflight,
 * drain on SIGTERM) and runs handlers with the (event, context) contract.
 */
import { randomUUID, createHash, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { CloudEvent } from 'cloudevents';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from 'pino';
import { isCodedError, type Reason } from '../errors';
import type { CephConnection } from './connection';
import { FunctionContext, type FunctionEvent, type FunctionModule } from './context';
import { Deliveries } from './delivery';
import { answerEvent, isCloudEventRequest, readCloudEvent, toBinary } from './events';
import type { Metrics } from './metrics';
import { MAX_DEPTH, duplicateKey, nestsDeeperThan } from './json-body';
import { checkParameters, isPlainObject } from './params';
import { RawJson, plainValue } from './raw-json';
import { registerSecret } from './secrets';
import type { RuntimeSettings } from './settings';
import { HttpError, failure, statusOf, type Status } from './status';

/** How a route maps a request onto a function and its answer back. */
export interface RouteAdapter {
  /** The event's path. Default: "/". */
  path?: (req: Request) => string;
  /** Extra parameters, e.g. from the route's own path. */
  params?: (req: Request) => Record<string, unknown>;
  /** Reshapes every JSON answer, errors included. */
  respond?: (body: unknown) => unknown;
  /** Methods the route takes. Default: the function's methods plus POST. */
  methods?: string[];
}

/** A function's answer, whatever carried the request (HTTP, a CloudEvent, the async queue). */
export interface InvokeResult {
  status: number;
  headers: Record<string, string>;
  /** The JSON answer (a Status on failure); undefined for an empty one. */
  body: unknown;
  seconds: number;
  /** Whether the handler changed the cluster (context.changed()). */
  changed: boolean;
  /** The change it announced to K_SINK, if any; a CloudEvent reply reuses it (same id). */
  announced?: CloudEvent<unknown>;
}

export interface RuntimeOptions {
  settings: RuntimeSettings;
  connection: CephConnection;
  metrics: Metrics;
  logger: Logger;
}

const HEALTH_PATHS = new Set(['/_/health', '/health/liveness']);
const READY_PATHS = new Set(['/_/ready', '/health/readiness']);
const QUIET_PATHS = new Set([...HEALTH_PATHS, ...READY_PATHS, '/metrics', '/healthz']);
const JSON_TYPES = ['application/json', 'application/*+json'];
const CALL_ID = /^[\w.:-]{1,128}$/;

/** Sends a Status, reshaped by the route's adapter if it has one. */
export function sendStatus(res: Response, status: Status): void {
  res.status(status.code).json(reshape(res, status));
}

function reshape(res: Response, body: unknown): unknown {
  const respond = res.locals.respond as RouteAdapter['respond'];
  return respond ? respond(body) : body;
}

export class Runtime {
  /** Callbacks and K_SINK events on their way; the drain waits for them. */
  readonly deliveries: Deliveries;
  private draining = false;
  private inflight = 0;
  private server?: http.Server;
  private readonly drainHooks: (() => Promise<void>)[] = [];
  private readonly jsonParser: RequestHandler;
  private readonly tokenDigest?: Buffer;

  constructor(readonly options: RuntimeOptions) {
    this.jsonParser = express.json({
      limit: options.settings.maxBodyBytes,
      type: JSON_TYPES,
      verify: (_req, _res, buf) => {
        const text = buf.toString('utf8');
        const refuse = (message: string) => Object.assign(new Error(message), { type: 'entity.refused' });
        if (nestsDeeperThan(text, MAX_DEPTH)) throw refuse(`it nests arrays and objects deeper than ${MAX_DEPTH} levels.`);
        const key = duplicateKey(text);
        if (key !== undefined) throw refuse(`"${key}" is given twice; give each field once.`);
      },
    });
    const token = options.settings.apiToken;
    if (token) this.tokenDigest = digest(token);
    registerSecret(token);
    this.deliveries = new Deliveries(options.settings.async, options.logger);
  }

  /** An app with the runtime's own routes; the caller adds function routes. */
  createApp(): express.Express {
    const app = express();
    app.disable('x-powered-by');
    app.set('etag', false);
    app.use(this.requestLog);
    // One lookup rather than a router layer per path: every request passes here.
    const own = new Map<string, (res: Response) => unknown>([
      ...[...HEALTH_PATHS].map((p) => [p, (res: Response) => this.answerHealth(res)] as const),
      ...[...READY_PATHS].map((p) => [p, (res: Response) => this.answerReady(res)] as const),
      ['/metrics', (res: Response) => this.answerMetrics(res)],
    ]);
    app.use((req, res, next) => {
      // As express routes match: any case, one trailing slash.
      const answer = own.get(req.path.toLowerCase().replace(/(.)\/$/, '$1'));
      if (!answer) return next();
      if (req.method !== 'GET' && req.method !== 'HEAD') return next(methodNotAllowedError(req, ['GET']));
      Promise.resolve(answer(res)).catch(next);
    });
    return app;
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
        const refused = this.refuseCaller(req, res) ?? (methods.includes(req.method) ? undefined : methodNotAllowedError(req, methods)) ?? this.admit(res);
        if (refused) return next(refused);
        this.readBody(req, res, (err?: unknown) => {
          if (err) return next(err);
          this.run(name, mod, req, res, adapter).catch(next);
        });
      },
    ];
  }

  /** Token check and JSON body parsing, for routes that take calls without running them now (async). */
  intake(): RequestHandler[] {
    return [this.authenticate, this.parseBody];
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Work the drain waits for, next to the in-flight requests (e.g. the async queue). */
  onDrain(hook: () => Promise<void>): void {
    this.drainHooks.push(hook);
  }

  /** The handler's event for a request. */
  eventOf(req: Request, adapter: RouteAdapter = {}): FunctionEvent {
    // The route's own parameters (e.g. the pool in its path) beat the query and body.
    const fixed = adapter.params?.(req);
    const body = req.body as unknown;
    return {
      body: fixed && isPlainObject(body) ? { ...body, ...fixed } : body,
      headers: req.headers,
      method: req.method,
      query: { ...(req.query as Record<string, unknown>), ...fixed },
      path: adapter.path?.(req) ?? '/',
    };
  }

  /**
   * Runs one function call to its answer: the handler, exec_timeout (504;
   * the work may still finish), errors as Status objects, and the K_SINK
   * announcement of a change.
   */
  async invoke(name: string, mod: FunctionModule, event: FunctionEvent, callId: string): Promise<InvokeResult> {
    const { settings, connection, logger } = this.options;
    const started = process.hrtime.bigint();
    // A child logger costs an allocation and a serialisation: made only when used.
    let child: Logger | undefined;
    const log = () => (child ??= logger.child({ function: name, callId }));
    const context = new FunctionContext({
      ceph: () => connection.get(),
      settings,
      get log() {
        return log();
      },
      callId,
      functionName: name,
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), settings.execTimeoutMs)));
    const work = (async () => {
      checkParameters(name, mod.parameters, event);
      return context.settle(await mod.default(event, context));
    })().catch((error: unknown) => ({ kind: 'error' as const, error }));
    const outcome = await Promise.race([work, timeout]);
    clearTimeout(timer);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;

    if (outcome === 'timeout') {
      log().warn({ execTimeoutMs: settings.execTimeoutMs }, 'exec_timeout reached');
      // A change that lands after the 504 is still announced.
      void work.then((late) => {
        if (late.kind === 'value') this.announceChange(name, mod, context, context.status(), late.value, event, callId);
      });
      const status = failure(
        504,
        'Timeout',
        `The function did not finish within exec_timeout (${settings.execTimeoutMs} ms); the operation may still complete. Check before retrying.`,
      );
      return { status: 504, headers: {}, body: status, seconds, changed: false };
    }
    if (outcome.kind === 'error') {
      const status = statusOf(outcome.error);
      if (isBug(outcome.error)) log().error({ err: outcome.error }, 'handler failed');
      const headers: Record<string, string> = {};
      if (status.code === 405 && outcome.error instanceof HttpError) headers.Allow = String(outcome.error.details?.allow ?? '');
      return { status: status.code, headers, body: status, seconds, changed: false };
    }
    const result: InvokeResult = { status: context.status(), headers: context.headers(), body: outcome.value, seconds, changed: context.hasChanged };
    result.announced = this.announceChange(name, mod, context, result.status, result.body, event, callId);
    return result;
  }

  /**
   * When the handler marked a change and K_SINK is set, sends its event to
   * the sink in the background (the caller's answer never waits) and returns it.
   */
  private announceChange(
    name: string,
    mod: FunctionModule,
    context: FunctionContext,
    status: number,
    body: unknown,
    request: FunctionEvent,
    callId: string,
  ): CloudEvent<unknown> | undefined {
    const { settings, logger } = this.options;
    if (!context.hasChanged || !mod.events || !settings.sink || status >= 400) return undefined;
    const event = answerEvent(name, mod.events, status, body, request.body);
    let outgoing = event;
    try {
      if (Object.keys(settings.sinkOverrides).length) outgoing = event.cloneWith(settings.sinkOverrides);
    } catch (err) {
      logger.warn({ err, callId }, 'K_CE_OVERRIDES names an invalid extension; sending the event without it');
    }
    const message = toBinary(outgoing);
    void this.deliveries.send('event to K_SINK', { url: settings.sink, ...message }, { callId, eventId: event.id, eventType: event.type });
    return event;
  }

  async listen(app: express.Express, port = this.options.settings.port, host?: string): Promise<http.Server> {
    const server = await new Promise<http.Server>((resolve, reject) => {
      const s = app.listen(port, host ?? '0.0.0.0', (err?: Error) => (err ? reject(err) : resolve(s)));
    });
    // Outlive the idle keep-alive of the proxies in front (Go's transport,
    // used by the OpenFaaS gateway and Knative's queue-proxy, keeps idle
    // connections 90 s). Node's 5 s default closes sockets they are about to
    // reuse, which they see as resets.
    server.keepAliveTimeout = 95_000;
    server.headersTimeout = 96_000;
    server.on('clientError', answerMalformed);
    this.server = server;
    return server;
  }

  /** Writes the lock file that the watchdog's exec probe checks. */
  writeLockFile(): void {
    fs.writeFileSync(this.options.settings.lockFile, `${process.pid}\n`);
  }

  /**
   * SIGTERM: health turns 503, in-flight requests finish (bounded by
   * exec_timeout), then the server closes and the Ceph handle with it. Until
   * then it keeps listening: a request routed here before the endpoints
   * caught up gets a 503 it can retry elsewhere, not a refused connection.
   */
  async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    this.options.logger.info({ inflight: this.inflight }, 'draining');
    const server = this.server;
    const closing = async () => {
      if (!server) return;
      const deadline = Date.now() + this.options.settings.execTimeoutMs + 1000;
      while (this.inflight > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
      // A request still being read is answered 503 with "Connection: close";
      // idle keep-alive sockets go now, anything left at the deadline too.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const idle = setInterval(() => server.closeIdleConnections(), 50);
      const hard = setTimeout(() => server.closeAllConnections(), Math.max(0, deadline - Date.now()) + 1000);
      await closed;
      clearInterval(idle);
      clearTimeout(hard);
    };
    await Promise.all([closing(), ...this.drainHooks.map((hook) => hook())]);
    // Callbacks and events may still be retrying; give them their retries' worth.
    const { retries, backoffMs, timeoutMs } = this.options.settings.async;
    const undelivered = await this.deliveries.settle((retries + 1) * timeoutMs + backoffMs * 2 ** retries);
    if (undelivered) this.options.logger.error({ undelivered }, 'deliveries still pending at exit');
    await this.options.connection.close();
    fs.rmSync(this.options.settings.lockFile, { force: true });
    this.options.logger.info('drained');
  }

  private async answerMetrics(res: Response): Promise<void> {
    const { registry } = this.options.metrics;
    res.type(registry.contentType).send(await registry.metrics());
  }

  private answerHealth(res: Response): void {
    if (this.draining) return sendStatus(res, failure(503, 'ServiceUnavailable', 'Draining: the process is shutting down.'));
    res.json({ status: 'ok' });
  }

  private answerReady(res: Response): void {
    const { settings, connection } = this.options;
    if (this.draining) return sendStatus(res, failure(503, 'ServiceUnavailable', 'Draining: the process is shutting down.'));
    if (!connection.ready) {
      return sendStatus(res, failure(503, 'ServiceUnavailable', 'Not connected to Ceph; see the log for the diagnosis.'));
    }
    if (settings.maxInflight > 0 && this.inflight >= settings.maxInflight) {
      return sendStatus(res, failure(429, 'TooManyRequests', `At the concurrency limit (max_inflight=${settings.maxInflight}).`));
    }
    res.json(connection.monitorsReachable ? { status: 'ok' } : { status: 'ok', monitors: 'unreachable' });
  }

  /**
   * Call id, request metrics, and a pino line for each request that changed
   * the cluster (info) or failed (warn for 4xx, error for 5xx). Reads that
   * succeed log at debug: at hundreds a second their lines would cost more
   * than their answers, and the metrics count them.
   */
  private readonly requestLog: RequestHandler = (req, res, next) => {
    const started = process.hrtime.bigint();
    const header = req.get('X-Call-Id');
    const callId = header && CALL_ID.test(header) ? header : randomUUID();
    res.locals.callId = callId;
    res.setHeader('X-Call-Id', callId);
    res.on('finish', () => {
      const fn = res.locals.functionName as string | undefined;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (fn) {
        this.options.metrics.requests.inc({ function: fn, method: req.method, status: res.statusCode });
        this.options.metrics.duration.observe({ function: fn }, seconds);
      }
      if (QUIET_PATHS.has(req.path) && res.statusCode < 500) return;
      const level = res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : res.locals.changed ? 'info' : 'debug';
      if (!this.options.logger.isLevelEnabled(level)) return;
      this.options.logger[level](
        { function: fn, method: req.method, path: req.path, status: res.statusCode, durationMs: +(seconds * 1000).toFixed(3), callId, event: res.locals.event },
        'request',
      );
    });
    next();
  };

  /** Bearer token, compared in constant time (digests hide the length too): the refusal, or undefined. */
  private refuseCaller(req: Request, res: Response): HttpError | undefined {
    if (!this.tokenDigest) return undefined;
    const match = /^Bearer (.+)$/.exec(req.get('Authorization') ?? '');
    if (match && timingSafeEqual(digest(match[1]!), this.tokenDigest)) return undefined;
    res.setHeader('WWW-Authenticate', 'Bearer');
    return new HttpError(401, 'Unauthorized', 'Missing or wrong bearer token: send "Authorization: Bearer <token>" (RBD_API_TOKEN).');
  }

  private readonly authenticate: RequestHandler = (req, res, next) => next(this.refuseCaller(req, res));

  /** Counts the request in flight until its answer is sent, or refuses it (draining, max_inflight). */
  private admit(res: Response): HttpError | undefined {
    if (this.draining) {
      res.setHeader('Connection', 'close');
      return new HttpError(503, 'ServiceUnavailable', 'Shutting down (SIGTERM): nothing was done. Retry; another replica, or this one restarted, will take it.');
    }
    const max = this.options.settings.maxInflight;
    if (max > 0 && this.inflight >= max) {
      return new HttpError(429, 'TooManyRequests', `Too many requests in flight (max_inflight=${max}); retry shortly.`);
    }
    this.inflight++;
    this.options.metrics.inflight.inc();
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.inflight--;
      this.options.metrics.inflight.dec();
    };
    res.on('finish', release);
    res.on('close', release);
    return undefined;
  }

  /** A JSON body (or none) into req.body; other types are 415. */
  private readBody(req: Request, res: Response, done: (err?: unknown) => void): void {
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    if (hasBody && !req.is(JSON_TYPES)) {
      return done(new HttpError(415, 'UnsupportedMediaType', `Send the body as application/json (got ${req.get('Content-Type') ?? 'no Content-Type'}).`));
    }
    this.jsonParser(req, res, done);
  }

  private readonly parseBody: RequestHandler = (req, res, next) => this.readBody(req, res, next);

  private async run(name: string, mod: FunctionModule, req: Request, res: Response, adapter: RouteAdapter): Promise<void> {
    const callId = res.locals.callId as string;
    if (isCloudEventRequest(req.headers)) return this.runCloudEvent(name, mod, req, res, adapter, callId);
    const result = await this.invoke(name, mod, this.eventOf(req, adapter), callId);
    res.locals.changed = result.changed;
    if (res.headersSent) return;
    res.status(result.status).set(result.headers);
    if (result.body === undefined) res.end();
    else if (result.body instanceof RawJson && !res.locals.respond) res.type('json').send(result.body.bytes);
    else res.json(reshape(res, plainValue(result.body)));
  }

  /** A CloudEvent: its data is the handler's body; the answer is a binary-mode CloudEvent. */
  private async runCloudEvent(name: string, mod: FunctionModule, req: Request, res: Response, adapter: RouteAdapter, callId: string): Promise<void> {
    const request = readCloudEvent(req.headers, req.body);
    res.locals.event = { id: request.id, type: request.type, source: request.source };
    if (!mod.events || request.type !== mod.events.accepts) {
      const accepts = mod.events ? [mod.events.accepts] : [];
      throw new HttpError(400, 'BadRequest', `${name} does not handle events of type "${request.type}"; it accepts ${accepts.join(', ') || 'none'}.`, {
        type: request.type,
        accepts,
      });
    }
    const data = request.data ?? {};
    const event: FunctionEvent = { body: data, headers: req.headers, method: 'POST', query: {}, path: adapter.path?.(req) ?? '/' };
    const result = await this.invoke(name, mod, event, callId);
    res.locals.changed = result.changed;
    if (res.headersSent) return;
    const reply = result.announced ?? answerEvent(name, mod.events, result.status, result.body, data);
    const { headers, body } = toBinary(reply);
    // A definite failure is an answer: 200 with rbd.error, which Knative turns
    // into a reply event. One worth retrying keeps its status, so that the
    // broker redelivers the request under its delivery policy.
    const status = result.status < 400 ? result.status : isTransient(result.status) ? result.status : 200;
    // Node's setHeader and a Buffer: express would add "; charset=utf-8" to
    // the content type, which in binary mode is the event's datacontenttype.
    for (const [header, value] of Object.entries(headers)) res.setHeader(header, value);
    res.status(status).send(Buffer.from(body));
  }

  private sendError(res: Response, err: unknown, log: Logger): void {
    const status = statusOf(err);
    if (isBug(err)) log.error({ err }, 'handler failed');
    if (res.headersSent) return;
    if (status.code === 405 && err instanceof HttpError) res.setHeader('Allow', String(err.details?.allow ?? ''));
    sendStatus(res, status);
  }

  private readonly errorHandler = (err: unknown, _req: Request, res: Response, _next: NextFunction): void => {
    const log = this.options.logger.child({ callId: res.locals.callId });
    const type = (err as { type?: string }).type;
    if (type === 'entity.too.large') {
      err = new HttpError(413, 'PayloadTooLarge', `The body exceeds ${this.options.settings.maxBodyBytes} bytes.`);
    } else if (type === 'entity.parse.failed') {
      err = new HttpError(400, 'BadRequest', `The body is not valid JSON: ${(err as Error).message}`);
    } else if (type === 'entity.refused') {
      err = new HttpError(400, 'BadRequest', `The body is refused: ${(err as Error).message}`);
    } else if (type === 'charset.unsupported' || type === 'encoding.unsupported') {
      err = new HttpError(415, 'UnsupportedMediaType', (err as Error).message);
    }
    this.sendError(res, err, log);
  };
}

/** An error no one meant to answer with: a bug, logged with its stack (a 500). */
function isBug(err: unknown): boolean {
  return !isCodedError(err) && !(err instanceof HttpError) && statusOf(err).code >= 500;
}

/** Statuses a sender should retry: the same request may succeed later. */
function isTransient(code: number): boolean {
  return code === 408 || code === 429 || code >= 500;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

export function methodNotAllowedError(req: Request, allowed: string[]): HttpError {
  return new HttpError(405, 'MethodNotAllowed', `${req.method} is not allowed here; use ${allowed.join(' or ')}.`, { allow: allowed.join(', ') });
}

export function methodNotAllowed(allowed: string[]): RequestHandler {
  return (req, _res, next) => next(methodNotAllowedError(req, allowed));
}

/** Node's parser errors that are not a plain 400, by code. */
const MALFORMED: Record<string, [number, Reason, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'RequestHeaderFieldsTooLarge', 'The request headers are too large.'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'PayloadTooLarge', 'The chunk extensions are too large.'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'RequestTimeout', 'The request took too long to arrive.'],
};

/**
 * Requests Node's parser refuses (a CR or NUL in a header, a bad method or
 * chunk) get a Status body, not Node's bare 400, and the socket is closed:
 * Node leaves it half-open otherwise. If the socket is answering an earlier
 * request (its body complete, or its answer started), the bad bytes belong
 * to a later one: the socket is only closed, so no 400 lands in or instead
 * of that answer.
 */
function answerMalformed(err: NodeJS.ErrnoException, socket: Duplex): void {
  const answering = (socket as Duplex & { _httpMessage?: http.ServerResponse })._httpMessage;
  const earlier = answering && (answering.headersSent || answering.req.complete);
  if (err.code === 'ECONNRESET' || !socket.writable || earlier) return void socket.destroy();
  const [code, reason, message] = MALFORMED[err.code ?? ''] ?? [
    400,
    'BadRequest',
    `Malformed HTTP request (${err.code ?? 'parse error'}): check the request line and headers; CR, LF and NUL are not allowed in header values.`,
  ];
  const body = JSON.stringify(failure(code, reason, message));
  socket.end(
    `HTTP/1.1 ${code} ${http.STATUS_CODES[code]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    () => socket.destroy(),
  );
  setTimeout(() => socket.destroy(), 1000).unref(); // a peer that never reads
}
