/**
 * The workload contract's own endpoints (OpenFaaS and Knative): liveness,
 * readiness and Prometheus metrics, and the lock file the watchdog's exec
 * probe checks.
 */
import fs from 'node:fs';
import type { RequestHandler, Response } from 'express';
import type { DocumentedModule, Mount } from '../api/openapi';
import type { Admission } from './admission';
import type { CephConnection } from './connection';
import type { Metrics } from './metrics';
import { methodNotAllowedError, sendStatus } from './responses';
import { failure } from './status';

export const HEALTH_PATHS = ['/_/health', '/health/liveness'];
export const READY_PATHS = ['/_/ready', '/health/readiness'];
export const METRICS_PATH = '/metrics';
export const OPENAPI_PATH = '/_/openapi.json';

export interface ContractState {
  admission: Admission;
  connection: CephConnection;
  metrics: Metrics;
  /** Why the process serves nothing (a token expected and missing): readiness says so. */
  notServing?: string;
}

/** A contract path's answer. */
export type ContractAnswer = (res: Response) => unknown;

/**
 * Answers the contract's paths, and the `extra` ones a mount adds (the
 * OpenAPI document), GET and HEAD only; passes every other request on.
 */
export function contractEndpoints(state: ContractState, extra: ReadonlyMap<string, ContractAnswer>): RequestHandler {
  // One lookup rather than a router layer per path: every request passes here.
  const own = new Map<string, ContractAnswer>([
    ...HEALTH_PATHS.map((p) => [p, (res: Response) => answerHealth(state, res)] as const),
    ...READY_PATHS.map((p) => [p, (res: Response) => answerReady(state, res)] as const),
    [METRICS_PATH, (res: Response) => answerMetrics(state, res)],
  ]);
  return (req, res, next) => {
    // As express routes match: any case, one trailing slash.
    const path = req.path.toLowerCase().replace(/(.)\/$/, '$1');
    const answer = own.get(path) ?? extra.get(path);
    if (!answer) return next();
    if (req.method !== 'GET' && req.method !== 'HEAD') return next(methodNotAllowedError(req, ['GET']));
    Promise.resolve(answer(res)).catch(next);
  };
}

/**
 * The OpenAPI document of `functions` as served at `mount`. Built on its
 * first request, and its generator loaded then: neither costs a cold start
 * or idle memory until someone asks.
 */
export function openApiAnswer(functions: ReadonlyMap<string, DocumentedModule>, mount: Mount): ContractAnswer {
  let document: string | undefined;
  return (res) => {
    document ??= JSON.stringify((require('../api/openapi') as typeof import('../api/openapi')).openApiDocument(functions, mount));
    res.type('json').send(document);
  };
}

async function answerMetrics({ metrics }: ContractState, res: Response): Promise<void> {
  res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
}

function answerHealth({ admission }: ContractState, res: Response): void {
  if (admission.draining) return sendStatus(res, failure(503, 'ServiceUnavailable', 'Draining: the process is shutting down.'));
  res.json({ status: 'ok' });
}

function answerReady({ admission, connection, notServing }: ContractState, res: Response): void {
  if (admission.draining) return sendStatus(res, failure(503, 'ServiceUnavailable', 'Draining: the process is shutting down.'));
  if (notServing) return sendStatus(res, failure(503, 'ServiceUnavailable', notServing));
  if (!connection.ready) {
    return sendStatus(res, failure(503, 'ServiceUnavailable', 'Not connected to Ceph; see the log for the diagnosis.'));
  }
  if (admission.full) {
    return sendStatus(res, failure(429, 'TooManyRequests', `At the concurrency limit (max_inflight=${admission.maxInflight}).`));
  }
  res.json(connection.monitorsReachable ? { status: 'ok' } : { status: 'ok', monitors: 'unreachable' });
}

/** Writes the lock file that the watchdog's exec probe checks. */
export function writeLockFile(file: string): void {
  fs.writeFileSync(file, `${process.pid}\n`);
}

export function removeLockFile(file: string): void {
  fs.rmSync(file, { force: true });
}
