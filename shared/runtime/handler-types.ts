/**
 * What a handler is given and what it declares, as plain types: the event a
 * request becomes, and the CloudEvent types a function takes and replies
 * with. A leaf, so that the request's parsing, its parameters and the
 * handler's context can all name them without importing each other.
 */
import type { IncomingHttpHeaders } from 'node:http';

export interface FunctionEvent {
  /** Parsed JSON body, or undefined when there was none. */
  body: unknown;
  headers: IncomingHttpHeaders;
  method: string;
  query: Record<string, unknown>;
  /** The path after the function's own prefix, e.g. "/" or "/extra". */
  path: string;
}

/** What a function declares about events: functions/<name>/handler.ts `events`. */
export interface FunctionEvents {
  /** The request type it takes, e.g. "io.ceph.rbd.image.create" (see event-types.ts). */
  accepts: string;
  /** The type of its reply and of the change it announces, e.g. "io.ceph.rbd.image.created". */
  replies: string;
}
