/**
 * A function's route: the request as the handler's event, the call, and its
 * answer written back, as JSON or, for a CloudEvent request, as a
 * binary-mode CloudEvent.
 */
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import type { FunctionModule } from './context';
import { bareType } from './event-types';
import { answerEvent, isCloudEventRequest, readCloudEvent, toBinary } from './events';
import type { FunctionEvent } from './handler-types';
import type { Invoker } from './invoke';
import { isPlainObject } from './plain-object';
import { RawJson, plainValue } from './raw-json';
import { reshape, type Respond } from './responses';
import { HttpError } from './status';

/** How a route maps a request onto a function and its answer back. */
export interface RouteAdapter {
  /** The event's path. Default: "/". */
  path?: (req: Request) => string;
  /** Extra parameters, e.g. from the route's own path. */
  params?: (req: Request) => Record<string, unknown>;
  /** Reshapes every JSON answer, errors included. */
  respond?: Respond;
  /** Methods the route takes. Default: the function's methods plus POST. */
  methods?: string[];
}

/** The handler's event for a request. */
export function eventOf(req: Request, adapter: RouteAdapter = {}): FunctionEvent {
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

/** Runs the function for an admitted request whose body is read, and answers it. */
export async function dispatch(invoker: Invoker, name: string, mod: FunctionModule, req: Request, res: Response, adapter: RouteAdapter): Promise<void> {
  const callId = res.locals.callId as string;
  if (isCloudEventRequest(req.headers)) return dispatchCloudEvent(invoker, name, mod, req, res, adapter, callId);
  const result = await invoker.invoke(name, mod, eventOf(req, adapter), callId);
  res.locals.changed = result.changed;
  if (res.headersSent) return;
  res.status(result.status).set(result.headers);
  if (result.body === undefined) res.end();
  else if (result.body instanceof RawJson && !res.locals.respond) res.type('json').send(result.body.bytes);
  else res.json(reshape(res, plainValue(result.body)));
}

/** A CloudEvent: its data is the handler's body; the answer is a binary-mode CloudEvent. */
async function dispatchCloudEvent(
  invoker: Invoker,
  name: string,
  mod: FunctionModule,
  req: Request,
  res: Response,
  adapter: RouteAdapter,
  callId: string,
): Promise<void> {
  const request = readCloudEvent(req.headers, req.body);
  res.locals.event = { id: request.id, type: request.type, source: request.source };
  if (!mod.events || (request.type !== mod.events.accepts && request.type !== bareType(mod.events.accepts))) {
    const accepts = mod.events ? [mod.events.accepts] : [];
    throw new HttpError(400, 'BadRequest', `${name} does not handle events of type "${request.type}"; it accepts ${accepts.join(', ') || 'none'}.`, {
      type: request.type,
      accepts,
    });
  }
  if (request.type !== mod.events.accepts) warnBareType(invoker.logger, request.type, mod.events.accepts);
  const data = request.data ?? {};
  const event: FunctionEvent = { body: data, headers: req.headers, method: 'POST', query: {}, path: adapter.path?.(req) ?? '/' };
  const result = await invoker.invoke(name, mod, event, callId);
  res.locals.changed = result.changed;
  if (res.headersSent) return;
  const reply = result.announced ?? answerEvent(name, mod.events, result.status, result.body, data);
  const { headers, body } = toBinary(reply);
  // A definite failure is an answer: 200 with the error type, which Knative turns
  // into a reply event. One worth retrying keeps its status, so that the
  // broker redelivers the request under its delivery policy.
  const status = result.status < 400 ? result.status : isTransient(result.status) ? result.status : 200;
  // Node's setHeader and a Buffer: express would add "; charset=utf-8" to
  // the content type, which in binary mode is the event's datacontenttype.
  for (const [header, value] of Object.entries(headers)) res.setHeader(header, value);
  res.status(status).send(Buffer.from(body));
}

/** The bare types this process has warned about: one warning each is enough to find the sender. */
const warnedBareTypes = new Set<string>();

/** A request of a type from before the prefix: answered as usual, with a warning naming the type to send. */
function warnBareType(logger: Logger, bare: string, prefixed: string): void {
  if (warnedBareTypes.has(bare)) return;
  warnedBareTypes.add(bare);
  logger.warn(
    { eventType: bare, use: prefixed },
    `CloudEvent type "${bare}" is deprecated and will be refused from the next release; send "${prefixed}" (and filter on it).`,
  );
}

/** Statuses a sender should retry: the same request may succeed later. */
function isTransient(code: number): boolean {
  return code === 408 || code === 429 || code >= 500;
}
