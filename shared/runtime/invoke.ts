/**
 * One function call to its answer, whatever carried the request (HTTP, a
 * CloudEvent, the async queue): parameters checked, the handler run with its
 * context, exec_timeout (504; the work may still finish), errors as Status
 * objects, and the K_SINK announcement of a change.
 */
import type { CloudEvent } from 'cloudevents';
import type { Logger } from 'pino';
import type { CephConnection } from './connection';
import { FunctionContext, type FunctionModule } from './context';
import type { Deliveries } from './delivery';
import { answerEvent, toBinary } from './events';
import type { FunctionEvent } from './handler-types';
import { checkParameters } from './params';
import type { RuntimeSettings } from './settings';
import { allowHeader, failure, isBug, statusOf } from './status';

/** A function's answer. */
export interface InvokeResult {
  status: number;
  headers: Record<string, string>;
  /** The JSON answer (a Status on failure); undefined for an empty one. */
  body: unknown;
  seconds: number;
  /** Whether the handler changed the cluster (context.changed()). */
  changed: boolean;
  /** The change it announced to K_SINK, if any; a CloudEvent reply reuses it (same id). */
  announced?: CloudEvent<unknown>;
}

export interface InvokerOptions {
  settings: RuntimeSettings;
  connection: CephConnection;
  logger: Logger;
  /** Where announcements to K_SINK go out. */
  deliveries: Deliveries;
}

export class Invoker {
  constructor(private readonly options: InvokerOptions) {}

  get logger(): Logger {
    return this.options.logger;
  }

  async invoke(name: string, mod: FunctionModule, event: FunctionEvent, callId: string): Promise<InvokeResult> {
    const { settings, connection, logger } = this.options;
    const started = process.hrtime.bigint();
    // A child logger costs an allocation and a serialisation: made only when used.
    let child: Logger | undefined;
    const log = () => (child ??= logger.child({ function: name, callId }));
    const context = new FunctionContext({
      ceph: () => connection.get(),
      settings,
      get log() {
        return log();
      },
      callId,
      functionName: name,
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), settings.execTimeoutMs)));
    const work = (async () => {
      checkParameters(name, mod.parameters, event);
      return context.settle(await mod.default(event, context));
    })().catch((error: unknown) => ({ kind: 'error' as const, error }));
    const outcome = await Promise.race([work, timeout]);
    clearTimeout(timer);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;

    if (outcome === 'timeout') {
      log().warn({ execTimeoutMs: settings.execTimeoutMs }, 'exec_timeout reached');
      // A change that lands after the 504 is still announced.
      void work.then((late) => {
        if (late.kind === 'value') this.announceChange(name, mod, context, context.status(), late.value, event, callId);
      });
      const status = failure(
        504,
        'Timeout',
        `The function did not finish within exec_timeout (${settings.execTimeoutMs} ms); the operation may still complete. Check before retrying.`,
      );
      return { status: 504, headers: {}, body: status, seconds, changed: false };
    }
    if (outcome.kind === 'error') {
      const status = statusOf(outcome.error);
      if (isBug(outcome.error)) log().error({ err: outcome.error }, 'handler failed');
      const allow = allowHeader(outcome.error);
      return { status: status.code, headers: allow === undefined ? {} : { Allow: allow }, body: status, seconds, changed: false };
    }
    const result: InvokeResult = { status: context.status(), headers: context.headers(), body: outcome.value, seconds, changed: context.hasChanged };
    result.announced = this.announceChange(name, mod, context, result.status, result.body, event, callId);
    return result;
  }

  /**
   * When the handler marked a change and K_SINK is set, sends its event to
   * the sink in the background (the caller's answer never waits) and returns it.
   */
  private announceChange(
    name: string,
    mod: FunctionModule,
    context: FunctionContext,
    status: number,
    body: unknown,
    request: FunctionEvent,
    callId: string,
  ): CloudEvent<unknown> | undefined {
    const { settings, logger, deliveries } = this.options;
    if (!context.hasChanged || !mod.events || !settings.sink || status >= 400) return undefined;
    const event = answerEvent(name, mod.events, status, body, request.body);
    let outgoing = event;
    try {
      if (Object.keys(settings.sinkOverrides).length) outgoing = event.cloneWith(settings.sinkOverrides);
    } catch (err) {
      logger.warn({ err, callId }, 'K_CE_OVERRIDES names an invalid extension; sending the event without it');
    }
    const message = toBinary(outgoing);
    void deliveries.send('event to K_SINK', { url: settings.sink, ...message }, { callId, eventId: event.id, eventType: event.type });
    return event;
  }
}
