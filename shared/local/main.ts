/**
 * `npm start`: connects to the configured cluster, or to a throwaway sandbox
 * cluster when none is configured, and prints its pools and images.
 * (The local gateway that serves the functions replaces this in a later step.)
 */
import { CephClient } from '../ceph/client';
import { loadCephConfig, type CephConfig } from '../config';
import { CephError } from '../errors';
import { startSandbox, stopSandbox, type Sandbox } from './sandbox';

async function main(): Promise<void> {
  let sandbox: Sandbox | undefined;
  let config: CephConfig;
  try {
    config = loadCephConfig();
  } catch (err) {
    if (!(err instanceof CephError && err.code === 'ERR_CEPH_CONFIG_MISSING')) throw err;
    process.stderr.write('No Ceph cluster configured: booting a throwaway sandbox cluster.\n');
    sandbox = startSandbox();
    config = loadCephConfig({ env: { CEPH_CONF: sandbox.conf, CEPH_KEYRING: sandbox.keyring } });
  }
  try {
    const client = await CephClient.connect(config);
    try {
      const pools = await client.listPools();
      const rows = await Promise.all(
        pools.map(async (pool) => ({
          ...pool,
          images: pool.applications.includes('rbd') ? (await client.listImages(pool.name)).length : null,
        })),
      );
      process.stdout.write(`Connected to cluster ${client.info.fsid} at ${client.info.monHost}\n`);
      console.table(rows.map((r) => ({ pool: r.name, id: r.id, applications: r.applications.join(','), images: r.images ?? '-' })));
    } finally {
      await client.close();
    }
  } finally {
    if (sandbox) stopSandbox(sandbox.dir);
  }
}

main().catch((err: unknown) => {
  const code = err instanceof CephError ? ` [${err.code}]` : '';
  process.stderr.write(`error${code}: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
