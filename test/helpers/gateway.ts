/** An in-process local gateway on a free loopback port, against the sandbox cluster. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { CephConfig } from '../../shared/config';
import { mountGateway } from '../../shared/local/gateway';
import { boot, type Booted } from '../../shared/runtime/boot';
import { loadFunctions } from '../../shared/runtime/functions';
import { loadRuntimeSettings } from '../../shared/runtime/settings';
import { sandboxConfig } from './ceph';
import { checkAnswer } from './openapi-check';

export interface TestGateway extends Booted {
  url: string;
  /** Every log record the gateway wrote at info level and above (LOG_LEVEL in env lowers it), parsed. */
  logs: Record<string, unknown>[];
  close(): Promise<void>;
}

export async function startGateway(env: NodeJS.ProcessEnv = {}, loadConfig: () => CephConfig = () => sandboxConfig()): Promise<TestGateway> {
  // A lock file of its own, so parallel gateways do not share $TMPDIR/.lock.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rbdfn-gw-'));
  const settings = loadRuntimeSettings({ PORT: '0', TMPDIR: tmp, ...env });
  const functions = loadFunctions();
  const logs: Record<string, unknown>[] = [];
  const sink = { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) };
  const booted = await boot({
    name: 'test-gateway',
    settings,
    logger: pino({ level: env.LOG_LEVEL ?? 'info' }, sink),
    loadConfig,
    host: '127.0.0.1',
    handleSignals: false,
    mount: (app, runtime) => mountGateway(app, runtime, functions),
  });
  await booted.connection.start();
  return {
    ...booted,
    url: `http://127.0.0.1:${booted.port}`,
    logs,
    close: async () => {
      await booted.runtime.drain();
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}

export interface Answer<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** fetch, with a JSON body if one is given and the JSON answer parsed, checked against the OpenAPI document. */
export async function call<T = any>(url: string, init: { method?: string; body?: unknown; headers?: Record<string, string>; raw?: string } = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...init.headers };
  let body: string | undefined = init.raw;
  if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] ??= 'application/json';
  }
  const method = init.method ?? (body === undefined ? 'GET' : 'POST');
  const res = await fetch(url, { method, headers, body });
  const text = await res.text();
  const answer = { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  // Every function's answer must be one the OpenAPI document declares.
  await checkAnswer(url, method, answer);
  return answer;
}

/** A failure's Status body, with its code and reason. */
export function expectStatus(body: any, code: number, reason: string): void {
  expect(body).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message: expect.any(String) });
}
