/** Prometheus metrics for one process, through prom-client. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { OperationObserver } from '../ceph/client';

export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'rbd_function_requests_total',
    help: 'Function requests by function, method and HTTP status.',
    labelNames: ['function', 'method', 'status'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'rbd_function_request_duration_seconds',
    help: 'Function request latency.',
    labelNames: ['function'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly inflight = new Gauge({
    name: 'rbd_function_requests_in_flight',
    help: 'Function requests being handled now.',
    registers: [this.registry],
  });
  readonly cephDuration = new Histogram({
    name: 'rbd_ceph_operation_duration_seconds',
    help: 'Ceph operation latency by operation and outcome (ok or the error code).',
    labelNames: ['op', 'outcome'] as const,
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly cephInflight = new Gauge({
    name: 'rbd_ceph_operations_in_flight',
    help: 'Ceph operations running now.',
    registers: [this.registry],
  });
  readonly asyncQueued = new Gauge({
    name: 'rbd_async_queue_depth',
    help: 'Async calls accepted and waiting to run.',
    registers: [this.registry],
  });
  readonly asyncCalls = new Counter({
    name: 'rbd_async_calls_total',
    help: 'Async calls finished, by function and HTTP status (503: not run at shutdown).',
    labelNames: ['function', 'status'] as const,
    registers: [this.registry],
  });
  readonly callbacks = new Counter({
    name: 'rbd_async_callbacks_total',
    help: 'Async callbacks by outcome: delivered, or failed after retries.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly cephReady = new Gauge({
    name: 'rbd_ceph_ready',
    help: '1 while the Ceph connection is up, else 0.',
    registers: [this.registry],
  });
  readonly cephMonitorsReachable = new Gauge({
    name: 'rbd_ceph_monitors_reachable',
    help: "1 while the periodic check reaches the monitors, else 0; image calls don't need them.",
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.cephMonitorsReachable.set(1);
  }

  /** For CephClient's observe option. */
  readonly observeCeph: OperationObserver = (op) => {
    this.cephInflight.inc();
    const end = this.cephDuration.startTimer({ op });
    return (error) => {
      this.cephInflight.dec();
      end({ outcome: error ? String(error.code) : 'ok' });
    };
  };
}
