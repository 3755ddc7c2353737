/** One real cluster for the whole integration suite; its settings go to env. */
import { startSandbox } from '../../shared/local/sandbox';

export default function globalSetup(): void {
  const started = Date.now();
  const sandbox = startSandbox();
  // Not CEPH_KEYRING: librados reads that variable itself and would override
  // the keyrings that tests set on purpose. The conf names the keyring anyway.
  process.env.CEPH_CONF = sandbox.conf;
  process.env.CEPH_MON_HOST = sandbox.monHost;
  process.env.CEPH_SANDBOX_DIR = sandbox.dir;
  process.env.CEPH_SANDBOX_KEYRING = sandbox.keyring;
  process.stderr.write(`\nsandbox cluster up in ${Date.now() - started} ms at ${sandbox.dir}\n`);
}
