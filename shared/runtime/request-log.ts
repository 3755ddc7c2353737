/**
 * Per request: its call id, its metrics, and a pino line for each request
 * that changed the cluster (info) or failed (warn for 4xx, error for 5xx).
 * Reads that succeed log at debug: at hundreds a second their lines would
 * cost more than their answers, and the metrics count them.
 */
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import { HEALTH_PATHS, METRICS_PATH, READY_PATHS } from './contract';
import type { Metrics } from './metrics';

// Probes and scrapes that succeed leave no line; the gateway's /healthz too.
const QUIET_PATHS = new Set([...HEALTH_PATHS, ...READY_PATHS, METRICS_PATH, '/healthz']);
const CALL_ID = /^[\w.:-]{1,128}$/;

export function requestLog(metrics: Metrics, logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const header = req.get('X-Call-Id');
    const callId = header && CALL_ID.test(header) ? header : randomUUID();
    res.locals.callId = callId;
    res.setHeader('X-Call-Id', callId);
    res.on('finish', () => {
      const fn = res.locals.functionName as string | undefined;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (fn) {
        metrics.requests.inc({ function: fn, method: req.method, status: res.statusCode });
        metrics.duration.observe({ function: fn }, seconds);
      }
      if (QUIET_PATHS.has(req.path) && res.statusCode < 500) return;
      const level = res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : res.locals.changed ? 'info' : 'debug';
      if (!logger.isLevelEnabled(level)) return;
      logger[level](
        { function: fn, method: req.method, path: req.path, status: res.statusCode, durationMs: +(seconds * 1000).toFixed(3), callId, event: res.locals.event },
        'request',
      );
    });
    next();
  };
}
