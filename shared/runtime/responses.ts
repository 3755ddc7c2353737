/** Writing Status answers: reshaped for the route that asked, with the headers a status requires. */
import type { RequestHandler, Request, Response } from 'express';
import type { Logger } from 'pino';
import { HttpError, allowHeader, isBug, statusOf, type Status } from './status';

/** Reshapes every JSON answer of a route, errors included (res.locals.respond). */
export type Respond = (body: unknown) => unknown;

/** The body as the route answers it: through its res.locals.respond, if it has one. */
export function reshape(res: Response, body: unknown): unknown {
  const respond = res.locals.respond as Respond | undefined;
  return respond ? respond(body) : body;
}

/** Sends a Status, reshaped by the route's adapter if it has one. */
export function sendStatus(res: Response, status: Status): void {
  res.status(status.code).json(reshape(res, status));
}

/** Answers any thrown value with its Status; a bug is logged with its stack. */
export function sendError(res: Response, err: unknown, log: Logger): void {
  const status = statusOf(err);
  if (isBug(err)) log.error({ err }, 'handler failed');
  if (res.headersSent) return;
  const allow = allowHeader(err);
  if (allow !== undefined) res.setHeader('Allow', allow);
  sendStatus(res, status);
}

export function methodNotAllowedError(req: Request, allowed: string[]): HttpError {
  return new HttpError(405, 'MethodNotAllowed', `${req.method} is not allowed here; use ${allowed.join(' or ')}.`, { allow: allowed.join(', ') });
}

export function methodNotAllowed(allowed: string[]): RequestHandler {
  return (req, _res, next) => next(methodNotAllowedError(req, allowed));
}
