/** A runtime bundle in a process of its own, as the image runs it, for tests that signal, freeze or measure it. */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './net';

export const GATEWAY_BUNDLE = path.resolve(__dirname, '../../dist/bundle/gateway.js');
export const FUNCTION_BUNDLE = path.resolve(__dirname, '../../dist/bundle/function.js');

export interface RuntimeProcess {
  child: ChildProcess;
  port: number;
  url: string;
  /** SIGTERM (unless it already exited), then its exit code; removes its TMPDIR. */
  stop(): Promise<number | null>;
  /** SIGKILL if still running; removes its TMPDIR. */
  kill(): void;
}

/**
 * Runs `node <args>` on a free loopback port with a TMPDIR and secrets dir of
 * its own, no local sandbox, and only PATH from this process's environment.
 */
export async function spawnRuntime(args: string[], env: Record<string, string | undefined>, stdio: StdioOptions = 'ignore'): Promise<RuntimeProcess> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rbdfn-proc-'));
  const port = await freePort();
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH, PORT: String(port), TMPDIR: tmp, OPENFAAS_SECRETS_DIR: tmp, RBD_SANDBOX: 'off', ...env },
    stdio,
  });
  const cleanUp = () => fs.rmSync(tmp, { recursive: true, force: true });
  return {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      cleanUp();
      return child.exitCode;
    },
    kill: () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      cleanUp();
    },
  };
}
