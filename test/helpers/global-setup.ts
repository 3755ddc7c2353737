/** One real cluster for the whole integration suite; its settings go to env. */
import { sandboxUp } from './sandbox';

export default function globalSetup(): void {
  const started = Date.now();
  const sandbox = sandboxUp();
  // Not CEPH_KEYRING: librados reads that variable itself and would override
  // the keyrings that tests set on purpose. The conf names the keyring anyway.
  process.env.CEPH_CONF = sandbox.CEPH_CONF;
  process.env.CEPH_MON_HOST = sandbox.CEPH_MON_HOST;
  process.env.CEPH_SANDBOX_DIR = sandbox.CEPH_SANDBOX_DIR;
  process.env.CEPH_SANDBOX_KEYRING = sandbox.CEPH_KEYRING;
  process.stderr.write(`\nsandbox cluster up in ${Date.now() - started} ms at ${sandbox.CEPH_SANDBOX_DIR}\n`);
}
