/** One real cluster for the whole integration suite; its settings go to env. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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
  // Each answer checked against the OpenAPI document (helpers/openapi-check.ts), a line each, for the summary reporter.
  process.env.OPENAPI_CHECK_LOG = path.join(os.tmpdir(), `rbdfn-openapi-checks-${process.pid}.log`);
  fs.writeFileSync(process.env.OPENAPI_CHECK_LOG, '');
  process.stderr.write(`\nsandbox cluster up in ${Date.now() - started} ms at ${sandbox.dir}\n`);
}
