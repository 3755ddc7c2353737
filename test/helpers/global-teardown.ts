import { sandboxDown } from './sandbox';

export default function globalTeardown(): void {
  const dir = process.env.CEPH_SANDBOX_DIR;
  if (dir) sandboxDown(dir);
}
