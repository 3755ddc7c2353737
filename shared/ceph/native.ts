/** Types of the C++ addon in native/, and its loader. */
import path from 'node:path';
import type { NativeCreateOptions } from '../validation';

export interface NativeConnectOptions {
  conf?: string;
  id: string;
  keyring?: string;
  monHost?: string;
  key?: string;
  timeoutSeconds: number;
}

/** Resolved by connect(): the cluster's fsid and what librados used. */
export interface NativeConnectInfo {
  fsid: string;
  instanceId: number;
  keyring: string;
  monHost: string;
}

/** One entry of the monitors' "osd pool ls detail" JSON, the fields we use. */
export interface MonPoolDetail {
  pool_name: string;
  pool_id: number;
  application_metadata?: Record<string, unknown>;
}

export interface NativeWatcher {
  address: string;
  id: number;
  cookie: string;
}

/** What both createImage and statImage answer with. */
export interface NativeImageDescription {
  id: string;
  size: number;
  objectSize: number;
  order: number;
  features: number;
  stripeUnit: number;
  stripeCount: number;
  /** createImage: -1 without a data pool; statImage: the image's own pool then. */
  dataPoolId: number;
  createdAtMs: number;
}

export interface NativeImageStat extends NativeImageDescription {
  objectCount: number;
  blockNamePrefix: string;
  snapshotCount: number;
  watchers: NativeWatcher[];
}

/** What the addon rejects with: an Error with these fields. */
export interface NativeError extends Error {
  code: string;
  errno: number;
  op: string;
  pool?: string;
  namespace: string;
  image?: string;
  keyring?: string;
  monHost?: string;
}

export interface NativeCluster {
  connect(options: NativeConnectOptions): Promise<NativeConnectInfo>;
  close(): Promise<void>;
  /** JSON of "osd pool ls detail": MonPoolDetail[]. */
  listPools(): Promise<string>;
  /** Flat pairs: [name0, id0, name1, id1, ...]. */
  listImages(pool: string, namespace: string): Promise<string[]>;
  createImage(pool: string, namespace: string, image: string, size: number, options: NativeCreateOptions): Promise<void>;
  /**
   * With describe: the new image as read back from its id and header objects,
   * or null if they could not be read (the image was created; stat it instead).
   */
  createImage(
    pool: string,
    namespace: string,
    image: string,
    size: number,
    options: NativeCreateOptions,
    describe: true,
  ): Promise<NativeImageDescription | null>;
  statImage(pool: string, namespace: string, image: string): Promise<NativeImageStat>;
  removeImage(pool: string, namespace: string, image: string): Promise<void>;
  trashMove(pool: string, namespace: string, image: string, delaySeconds: number): Promise<void>;
}

export interface NativeAddon {
  Cluster: new () => NativeCluster;
  versions(): { librados: string; librbd: string };
}

/** Duck-typed: the addon's errors come from the main realm, so instanceof fails in vm contexts (jest). */
export function isNativeError(err: unknown): err is NativeError {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as NativeError).errno === 'number' &&
    typeof (err as NativeError).op === 'string' &&
    typeof (err as NativeError).message === 'string'
  );
}

let addon: NativeAddon | undefined;

/**
 * Loads native/build/Release/rbd_native.node, from the source tree or from
 * dist/ (compiled); RBD_NATIVE_ADDON overrides the path.
 */
export function loadAddon(): NativeAddon {
  if (addon) return addon;
  const override = process.env.RBD_NATIVE_ADDON;
  const candidates = override
    ? [override]
    : ['../../native/build/Release/rbd_native.node', '../../../native/build/Release/rbd_native.node'].map((rel) =>
        path.resolve(__dirname, rel),
      );
  let lastError: unknown;
  for (const candidate of candidates) {
    try {
      addon = require(candidate) as NativeAddon;
      return addon;
    } catch (err) {
      lastError = err;
      if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') break;
    }
  }
  throw new Error(
    `Cannot load the rbd-functions native addon (tried ${candidates.join(', ')}): ${(lastError as Error).message}. ` +
      'Build it with "npm run build:native"; it needs librados2 and librbd1 installed.',
    { cause: lastError },
  );
}
