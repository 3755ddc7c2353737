/**
 * CloudEvents 1.0 in and out, through the cloudevents SDK. A function takes
 * one request type; its answer goes back as a binary-mode CloudEvent (a reply
 * event on Knative), and a change it made can be announced to K_SINK.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { CloudEvent, CloudEventV1 } from 'cloudevents';
import { ERROR_EVENT_TYPE } from './event-types';
import type { FunctionEvents } from './handler-types';
import { isPlainObject } from './plain-object';
import { plainValue } from './raw-json';
import { HttpError } from './status';

/**
 * The SDK (with its JSON-schema validator) is loaded on the first event, not
 * at start-up: most calls are plain HTTP, and cold start and idle memory count.
 */
let loaded: typeof import('cloudevents') | undefined;
function sdk(): typeof import('cloudevents') {
  loaded ??= require('cloudevents') as typeof import('cloudevents');
  return loaded;
}

const STRUCTURED = 'application/cloudevents+json';
const BATCH = 'application/cloudevents-batch+json';
const REQUIRED = ['specversion', 'id', 'source', 'type'];

/** A request that claims to be a CloudEvent: ce-* headers (binary mode) or a structured content type. */
export function isCloudEventRequest(headers: IncomingHttpHeaders): boolean {
  const type = contentType(headers);
  return type.startsWith(STRUCTURED) || type.startsWith(BATCH) || Object.keys(headers).some((h) => h.startsWith('ce-'));
}

/** The CloudEvent in a request, validated; a 400 that says what is wrong otherwise. */
export function readCloudEvent(headers: IncomingHttpHeaders, body: unknown): CloudEventV1<unknown> {
  const type = contentType(headers);
  if (type.startsWith(BATCH)) {
    throw new HttpError(400, 'BadRequest', 'Batched CloudEvents are not accepted: send one event per request.');
  }
  // The SDK makes up an id (and time) when they are missing; the spec requires the sender's.
  const structured = type.startsWith(STRUCTURED);
  const given = (name: string) => (structured ? isPlainObject(body) && body[name] !== undefined && body[name] !== '' : Boolean(headers[`ce-${name}`]));
  const missing = REQUIRED.filter((name) => !given(name));
  if (missing.length > 0) {
    throw new HttpError(400, 'BadRequest', `Not a valid CloudEvent: missing the required attribute${missing.length > 1 ? 's' : ''} ${missing.join(', ')}.`, {
      cloudEvent: 'invalid',
      missing,
    });
  }
  let event: CloudEventV1<unknown>;
  try {
    const parsed = sdk().HTTP.toEvent<unknown>({ headers, body });
    if (Array.isArray(parsed)) throw new HttpError(400, 'BadRequest', 'Batched CloudEvents are not accepted: send one event per request.');
    event = parsed;
    (event as CloudEvent<unknown>).validate();
  } catch (err) {
    if (err instanceof HttpError) throw err;
    const problems = err instanceof sdk().ValidationError && Array.isArray(err.errors) ? err.errors.map(describeProblem).join('; ') : (err as Error).message;
    throw new HttpError(400, 'BadRequest', `Not a valid CloudEvent: ${problems}.`, { cloudEvent: 'invalid' });
  }
  if (event.specversion !== '1.0') {
    throw new HttpError(400, 'BadRequest', `CloudEvents ${event.specversion} is not accepted: send specversion 1.0.`, { specversion: event.specversion });
  }
  return event;
}

function contentType(headers: IncomingHttpHeaders): string {
  return String(headers['content-type'] ?? '').toLowerCase();
}

function describeProblem(problem: unknown): string {
  if (typeof problem === 'string') return problem;
  const { instancePath, message } = problem as { instancePath?: string; message?: string };
  return [instancePath?.replace(/^\//, ''), message].filter(Boolean).join(' ');
}

/** The functions' identity as an event source. */
export function eventSource(functionName: string): string {
  return `/rbd-functions/${functionName}`;
}

/**
 * "pool/image", "pool/namespace/image", "pool/image@snapshot" (a snapshot's
 * image is `image`, its name `name` or `snapshot`), or "pool" for a listing;
 * from the first value that names one.
 */
export function subjectOf(...candidates: unknown[]): string | undefined {
  for (const candidate of candidates) {
    if (typeof candidate !== 'object' || candidate === null) continue;
    const c = candidate as { pool?: unknown; namespace?: unknown; name?: unknown; image?: unknown; snapshot?: unknown; details?: unknown };
    if (typeof c.pool === 'string' && c.pool) {
      const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
      const image = text(c.image);
      const snapshot = image === undefined ? undefined : text(c.snapshot) ?? text(c.name);
      const path = [c.pool, text(c.namespace), image ?? text(c.name)].filter(Boolean).join('/');
      return snapshot ? `${path}@${snapshot}` : path;
    }
    const nested = subjectOf(c.details);
    if (nested) return nested;
  }
  return undefined;
}

/** The event for a function's answer: its reply type and data, or ERROR_EVENT_TYPE with the Status. */
export function answerEvent(functionName: string, events: FunctionEvents, status: number, answer: unknown, request?: unknown): CloudEvent<unknown> {
  const body = plainValue(answer);
  return new (sdk().CloudEvent)<unknown>({
    type: status < 400 ? events.replies : ERROR_EVENT_TYPE,
    source: eventSource(functionName),
    subject: subjectOf(body, request),
    datacontenttype: 'application/json',
    data: body ?? {},
  });
}

/** Binary mode, as Knative sends and expects replies. */
export function toBinary(event: CloudEvent<unknown>): { headers: Record<string, string>; body: string } {
  const message = sdk().HTTP.binary(event);
  return { headers: message.headers as Record<string, string>, body: String(message.body ?? '') };
}
