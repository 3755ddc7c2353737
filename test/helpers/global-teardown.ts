import { stopSandbox } from '../../shared/local/sandbox';

export default function globalTeardown(): void {
  const dir = process.env.CEPH_SANDBOX_DIR;
  if (dir) stopSandbox(dir);
}
