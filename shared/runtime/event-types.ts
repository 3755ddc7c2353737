/**
 * The CloudEvents types: one reverse-DNS prefix for every request and reply
 * type, as the spec recommends and Knative Triggers filter on. A leaf, so
 * that each handler can declare its types without loading the runtime.
 */
import type { FunctionEvents } from './handler-types';

/** Every type starts with this, e.g. io.ceph.rbd.image.create. */
export const EVENT_TYPE_PREFIX = 'io.ceph.rbd.';

/** The reply type of every failure; its data is the Status. */
export const ERROR_EVENT_TYPE = `${EVENT_TYPE_PREFIX}error`;

/** A function's request and reply types, from their names after the prefix (e.g. "image.create", "image.created"). */
export function eventTypes(accepts: string, replies: string): FunctionEvents {
  return { accepts: `${EVENT_TYPE_PREFIX}${accepts}`, replies: `${EVENT_TYPE_PREFIX}${replies}` };
}

/**
 * Before the prefix, types started "rbd." (rbd.image.create). Requests of
 * those bare types are still taken, with a warning, until the next release.
 */
const BARE_PREFIX = 'rbd.';

/** The bare type a prefixed one had before, e.g. rbd.image.create for io.ceph.rbd.image.create. */
export function bareType(type: string): string {
  return `${BARE_PREFIX}${type.slice(EVENT_TYPE_PREFIX.length)}`;
}
