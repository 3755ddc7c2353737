/**
 * list-pools: GET|POST → 200 PoolList. Pools tagged with the rbd application,
 * or every pool with all=true; pools outside RBD_POOLS are hidden.
 */
import type { CephClient, PoolInfo } from '../../shared/ceph/client';
import type { FunctionContext, FunctionEvent } from '../../shared/runtime/context';
import { eventTypes } from '../../shared/runtime/event-types';
import { Params } from '../../shared/runtime/params';

export const methods = ['GET'] as const;

/** The parameters it takes, in the query string or the body; any other is refused (400). */
export const parameters = ['all'] as const;

/** As a CloudEvent: takes io.ceph.rbd.pools.list, replies io.ceph.rbd.pools.listed (or io.ceph.rbd.error). */
export const events = eventTypes('pools.list', 'pools.listed');

export default async function listPools(event: FunctionEvent, context: FunctionContext) {
  const all = new Params(event).bool('all');
  const allowed = context.settings.allowedPools;
  const pools = await listShared(await context.ceph());
  const items = pools.filter((pool) => (all || pool.applications.includes('rbd')) && (!allowed || allowed.has(pool.name)));
  return { kind: 'PoolList', apiVersion: 'v1', items };
}

/**
 * Calls that arrive while a listing is on its way to the monitors share it,
 * so under load one mon round trip answers many requests. The price: a call
 * may miss a pool created less than one mon round trip before it.
 */
let pending: Promise<PoolInfo[]> | undefined;
function listShared(ceph: CephClient): Promise<PoolInfo[]> {
  pending ??= ceph.listPools().finally(() => (pending = undefined));
  return pending;
}
