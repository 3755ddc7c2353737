/**
 * The handler contract, after the OpenFaaS node templates: a handler gets
 * (event, context) and answers with context.status(code).succeed(value), by
 * returning a value, or by throwing. Unlike upstream, a thrown error is
 * answered with its proper status, never a 200.
 */
import type { Logger } from 'pino';
import type { CephClient } from '../ceph/client';
import type { FunctionEvent, FunctionEvents } from './handler-types';
import type { RuntimeSettings } from './settings';

// The handlers' one import for their contract.
export type { FunctionEvent, FunctionEvents };

/** What a handler needs from the runtime beyond the upstream contract. */
export interface FunctionServices {
  /** The process's Ceph client; throws a 503-mapped error when not connected. */
  ceph(): Promise<CephClient>;
  settings: RuntimeSettings;
  log: Logger;
  callId: string;
  functionName: string;
}

export type Handler = (event: FunctionEvent, context: FunctionContext) => unknown;

/** A function's module: functions/<name>/handler.ts. */
export interface FunctionModule {
  default: Handler;
  /** Its natural methods; POST is always accepted as well. */
  methods: readonly string[];
  /** The parameters it takes; a request with any other is refused before it runs. */
  parameters: readonly string[];
  /** The CloudEvent type it takes and the type it replies with. */
  events?: FunctionEvents;
}

type Outcome = { kind: 'value'; value: unknown } | { kind: 'error'; error: unknown };

export class FunctionContext implements FunctionServices {
  private statusCode?: number;
  private headerValues: Record<string, string> = {};
  private outcome?: Outcome;
  private madeChange = false;

  constructor(private readonly services: FunctionServices) {}

  ceph(): Promise<CephClient> {
    return this.services.ceph();
  }
  get settings(): RuntimeSettings {
    return this.services.settings;
  }
  get log(): Logger {
    return this.services.log;
  }
  get callId(): string {
    return this.services.callId;
  }
  get functionName(): string {
    return this.services.functionName;
  }

  /** Reads the status, or sets it and returns the context for chaining. */
  status(): number;
  status(code: number): this;
  status(code?: number): number | this {
    if (code === undefined) return this.statusCode ?? 200;
    this.statusCode = code;
    return this;
  }

  /** Reads the extra response headers, or replaces them and returns the context. */
  headers(): Record<string, string>;
  headers(values: Record<string, string>): this;
  headers(values?: Record<string, string>): Record<string, string> | this {
    if (values === undefined) return this.headerValues;
    this.headerValues = { ...values };
    return this;
  }

  succeed(value: unknown): this {
    this.outcome ??= { kind: 'value', value };
    return this;
  }

  fail(error: unknown): this {
    this.outcome ??= { kind: 'error', error };
    return this;
  }

  /**
   * Marks this call as having changed the cluster (an image created or
   * deleted): with K_SINK set, the runtime then announces it as an event.
   */
  changed(): this {
    this.madeChange = true;
    return this;
  }

  get hasChanged(): boolean {
    return this.madeChange;
  }

  /** What the handler settled on: succeed/fail win over a returned value. */
  settle(returned: unknown): Outcome {
    return this.outcome ?? { kind: 'value', value: returned };
  }

  /** Whether status() was set explicitly. */
  get explicitStatus(): number | undefined {
    return this.statusCode;
  }
}
