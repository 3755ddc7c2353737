/**
 * `npm start`: the local gateway with every function, against the configured
 * cluster, or against a throwaway sandbox cluster when none is configured
 * (unless RBD_SANDBOX=off, as in the container image).
 */
process.env.UV_THREADPOOL_SIZE ??= '16';

import { loadCephConfig, type CephConfig } from '../config';
import { CephError, isCodedError } from '../errors';
import { boot } from '../runtime/boot';
import { loadFunctions } from '../runtime/functions';
import type { Logger } from 'pino';
import { createLogger } from '../runtime/logger';
import { loadRuntimeSettings, type RuntimeSettings } from '../runtime/settings';
import { mountGateway } from './gateway';
import { startSandbox, stopSandbox } from './sandbox';

async function main(): Promise<void> {
  const logger = createLogger('gateway');
  const settings = loadRuntimeSettings();
  let loadConfig: (() => CephConfig) | undefined;
  try {
    loadCephConfig();
  } catch (err) {
    if (!(err instanceof CephError && err.code === 'ERR_CEPH_CONFIG_MISSING')) throw err;
    // Containers set RBD_SANDBOX=off: no config there means 503 until one is mounted.
    if (process.env.RBD_SANDBOX === 'off') return serve(logger, settings, undefined);
    logger.warn('No Ceph cluster configured (CEPH_CONF, CEPH_MON_HOST, OpenFaaS secrets, /etc/ceph/ceph.conf): booting a throwaway sandbox cluster');
    const sandbox = startSandbox();
    logger.warn({ conf: sandbox.conf, monHost: sandbox.monHost }, 'sandbox cluster up; it is torn down when the gateway stops');
    process.on('exit', () => stopSandbox(sandbox.dir));
    loadConfig = () => loadCephConfig({ env: { ...process.env, CEPH_CONF: sandbox.conf, CEPH_KEYRING: sandbox.keyring } });
  }
  return serve(logger, settings, loadConfig);
}

async function serve(logger: Logger, settings: RuntimeSettings, loadConfig: (() => CephConfig) | undefined): Promise<void> {
  const functions = loadFunctions();
  const { port } = await boot({ name: 'gateway', settings, logger, loadConfig, mount: (app, runtime) => mountGateway(app, runtime, functions) });
  logger.info({ url: `http://127.0.0.1:${port}/`, functions: [...functions.keys()] }, 'gateway ready: try GET /function/list-pools');
}

main().catch((err: unknown) => {
  const code = isCodedError(err) ? ` [${err.code}]` : '';
  process.stderr.write(`gateway${code}: ${(err as Error).message}\n`);
  process.exit(1);
});
