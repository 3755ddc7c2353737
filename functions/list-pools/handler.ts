/**
 * list-pools: GET|POST → 200 PoolList. Pools tagged with the rbd application,
 * or every pool with all=true; pools outside RBD_POOLS are hidden.
 */
import type { FunctionContext, FunctionEvent } from '../../shared/runtime/context';
import { Params } from '../../shared/runtime/params';

export const methods = ['GET'] as const;

/** As a CloudEvent: takes rbd.pools.list, replies rbd.pools.listed (or rbd.error). */
export const events = { accepts: 'rbd.pools.list', replies: 'rbd.pools.listed' };

export default async function listPools(event: FunctionEvent, context: FunctionContext) {
  const all = new Params(event).bool('all');
  const allowed = context.settings.allowedPools;
  const pools = await (await context.ceph()).listPools();
  const items = pools.filter((pool) => (all || pool.applications.includes('rbd')) && (!allowed || allowed.has(pool.name)));
  return { kind: 'PoolList', apiVersion: 'v1', items };
}
