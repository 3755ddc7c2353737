/**
 * Which requests run now: none once draining (503, so the caller retries
 * elsewhere), none past max_inflight (429); the rest are counted in flight
 * until their answer is sent.
 */
import type { Response } from 'express';
import type { Metrics } from './metrics';
import { HttpError } from './status';

export class Admission {
  private isDraining = false;
  private count = 0;

  constructor(
    /** max_inflight; 0 for no limit. */
    readonly maxInflight: number,
    private readonly metrics: Metrics,
  ) {}

  get draining(): boolean {
    return this.isDraining;
  }

  get inflight(): number {
    return this.count;
  }

  /** Whether max_inflight is reached: readiness turns away new traffic meanwhile. */
  get full(): boolean {
    return this.maxInflight > 0 && this.count >= this.maxInflight;
  }

  /** Refuses every request from now on; false if it already did. */
  startDraining(): boolean {
    if (this.isDraining) return false;
    this.isDraining = true;
    return true;
  }

  /** Counts the request in flight until its answer is sent, or refuses it. */
  admit(res: Response): HttpError | undefined {
    if (this.isDraining) {
      res.setHeader('Connection', 'close');
      return new HttpError(503, 'ServiceUnavailable', 'Shutting down (SIGTERM): nothing was done. Retry; another replica, or this one restarted, will take it.');
    }
    if (this.full) {
      return new HttpError(429, 'TooManyRequests', `Too many requests in flight (max_inflight=${this.maxInflight}); retry shortly.`);
    }
    this.count++;
    this.metrics.inflight.inc();
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.count--;
      this.metrics.inflight.dec();
    };
    res.on('finish', release);
    res.on('close', release);
    return undefined;
  }
}
