/** Types of the C++ addon in native/, and its loader. */
import path from 'node:path';
import type { CephConfig } from '../config';
import type { NativeCreateOptions } from '../validation';

/** What connect() takes: the resolved config, less where each field came from. */
export type NativeConnectOptions = Omit<CephConfig, 'sources'>;

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

export interface NativeParent {
  pool: string;
  namespace: string;
  image: string;
  snapshot: string;
}

/**
 * An image as the addon describes it (ImageDescription in native/src/describe.h).
 * The fields only an open image tells are absent when createImage or
 * cloneImage read a new image back from its header objects.
 */
export interface NativeImageDescription {
  id: string;
  size: number;
  objectSize: number;
  order: number;
  features: number;
  stripeUnit: number;
  stripeCount: number;
  /** The separate data pool's id, or -1. */
  dataPoolId: number;
  createdAtMs: number;
  snapshotCount?: number;
  watchers?: NativeWatcher[];
  /** rbd_get_parent; null without one. */
  parent?: NativeParent | null;
  /** The separate data pool's name, or null. */
  dataPool?: string | null;
}

/** What an opened image is described with: every field. */
export type NativeImageStat = Required<NativeImageDescription>;

/** One user snapshot. id is librbd's uint64 snap id as a number: ids count up from 1 per pool, far below 2^53. */
export interface NativeSnapshot {
  name: string;
  id: number;
  size: number;
  createdAtMs: number;
  protected: boolean;
  /** Clones of it, trashed ones included. */
  children: number;
}

export interface NativeChild {
  pool: string;
  namespace: string;
  name: string;
  id: string;
  trash: boolean;
}

export interface NativeTrashEntry {
  id: string;
  name: string;
  /** rbd_trash_image_source_t: 0 user, 1 mirroring, 2 migration, 3 removing, 4 user_parent. */
  source: number;
  deletedAtS: number;
  deferredUntilS: number;
}

export type NativeProgress = (done: number, total: number) => void;

/** What the addon rejects with: an Error with these fields. */
export interface NativeError extends Error {
  code: string;
  errno: number;
  op: string;
  pool?: string;
  namespace: string;
  image?: string;
  /** Set by snapshot operations (and by removeTrash's snapshot purge). */
  snapshot?: string;
  /** Trash operations: the image's id in the trash. */
  id?: string;
  /** removeTrash refused a deferred image: its deferment end, in seconds since the epoch. */
  deferredUntil?: string;
  keyring?: string;
  monHost?: string;
}

export interface NativeImagePage {
  /** With json: a JSON array of {pool, namespace, name, id}. */
  items?: Buffer;
  /** Without json: [name0, id0, name1, id1, ...]. */
  page?: string[];
  /** Whether images follow this page. */
  more: boolean;
  /** The page's last name, or null for an empty page. */
  last: string | null;
}

export interface NativeCluster {
  connect(options: NativeConnectOptions): Promise<NativeConnectInfo>;
  close(): Promise<void>;
  /** JSON of "osd pool ls detail": MonPoolDetail[]. */
  listPools(): Promise<string>;
  /** Flat pairs: [name0, id0, name1, id1, ...]. */
  listImages(pool: string, namespace: string): Promise<string[]>;
  /** A page sorted by name: items as JSON text (json) or flat [name, id, ...] pairs (page). */
  listImagesPage(pool: string, namespace: string, options: { after?: string; limit: number; json: boolean }): Promise<NativeImagePage>;
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
  /** The image after the resize, read from the same handle, and its size before. */
  resizeImage(pool: string, namespace: string, image: string, size: number, allowShrink: boolean): Promise<NativeImageStat & { previousSize: number }>;
  /** Bytes in use as rbd du counts them. */
  imageUsage(pool: string, namespace: string, image: string): Promise<number>;
  createSnapshot(pool: string, namespace: string, image: string, snapshot: string): Promise<void>;
  /** User snapshots, in id order. */
  listSnapshots(pool: string, namespace: string, image: string): Promise<NativeSnapshot[]>;
  removeSnapshot(pool: string, namespace: string, image: string, snapshot: string, unprotect: boolean): Promise<void>;
  protectSnapshot(pool: string, namespace: string, image: string, snapshot: string): Promise<void>;
  unprotectSnapshot(pool: string, namespace: string, image: string, snapshot: string): Promise<void>;
  listChildren(pool: string, namespace: string, image: string, snapshot: string): Promise<NativeChild[]>;
  /** onProgress runs on the main thread; the promise settles after its last call. */
  /** The image as restored, or as it is with rolledBack false when others watch it. */
  rollbackImage(pool: string, namespace: string, image: string, snapshot: string, onProgress?: NativeProgress): Promise<NativeImageStat & { rolledBack: boolean }>;
  cloneImage(
    pool: string,
    namespace: string,
    image: string,
    snapshot: string,
    childPool: string,
    childNamespace: string,
    child: string,
    options: { features?: number; cloneFormat?: number },
  ): Promise<NativeImageDescription | null>; // the clone read back from its objects, or null: stat it
  flattenImage(pool: string, namespace: string, image: string, onProgress?: NativeProgress): Promise<void>;
  /** The osdmap's require_min_compat_client release number (luminous 12, mimic 13, ...). */
  minCompatClient(): Promise<number>;
  trashMove(pool: string, namespace: string, image: string, delaySeconds: number): Promise<void>;
  listTrash(pool: string, namespace: string): Promise<NativeTrashEntry[]>;
  /** name "" restores under the original name. */
  /** The image restored, or {restored: false, name, source} when librbd itself put it there. */
  restoreTrash(pool: string, namespace: string, id: string, name: string): Promise<(NativeImageStat & { restored: true; name: string }) | { restored: false; name: string; source: number }>;
  removeTrash(pool: string, namespace: string, id: string, force: boolean, purgeSnapshots: boolean, onProgress?: NativeProgress): Promise<void>;
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
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a .node addon loads only through require
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
