/**
 * The typed Ceph client every function uses. It validates every argument
 * before it reaches C, and turns the addon's rejections into CephErrors whose
 * stack points at the caller. Keep one per process: connecting authenticates
 * and fetches the cluster maps from the monitors, work no call should repeat.
 */
import type { CephConfig } from '../config';
import { CephError, catalogued, invalidParameterError } from '../errors';
import {
  DEFAULT_MAX_IMAGE_SIZE,
  validateCreateOptions,
  validateInteger,
  validateName,
  validateNamespace,
  validateSize,
  validateTrashId,
  type CreateImageOptions,
} from '../validation';
import { checkConfFile, diagnoseConnectError } from './diagnose';
import { featureNames, type CreatableFeature, type FeatureName } from './features';
import {
  isNativeError,
  loadAddon,
  type MonPoolDetail,
  type NativeCluster,
  type NativeConnectInfo,
  type NativeError,
  type NativeImageDescription,
  type NativeImageStat,
  type NativeProgress,
} from './native';

/** An image's address. namespace "" (or absent) is the pool's default namespace. */
export interface ImageSpec {
  pool: string;
  namespace?: string;
  name: string;
}

export interface PoolInfo {
  name: string;
  id: number;
  /** Application tags, e.g. ["rbd"]. */
  applications: string[];
}

export interface ImageRef {
  name: string;
  id: string;
}

/** A clone's parent: pool/namespace/image@snapshot. */
export interface ParentRef {
  pool: string;
  namespace: string;
  image: string;
  snapshot: string;
}

/** An image: what statImage answers. */
export interface ImageInfo {
  pool: string;
  namespace: string;
  name: string;
  id: string;
  size: number;
  objectSize: number;
  order: number;
  features: FeatureName[];
  featureBits: number;
  stripeUnit: number;
  stripeCount: number;
  /** Pool id of a separate data pool, or null. */
  dataPoolId: number | null;
  createdAt: Date;
  snapshotCount: number;
  watchers: { address: string; id: number; cookie: string }[];
  /** The clone's parent, or null. */
  parent: ParentRef | null;
  /** Name of the separate data pool, or null. */
  dataPool: string | null;
}

/**
 * An image's id, size, layout, features and creation time: what
 * createImageDescribed answers, read back from the new image's header
 * objects, which do not tell what only an open image does.
 */
export type ImageDescription = Omit<ImageInfo, 'snapshotCount' | 'watchers' | 'parent' | 'dataPool'>;

export interface SnapshotInfo {
  name: string;
  /** librbd's snap id, a uint64: ids count up from 1 per pool, so a number holds them exactly. */
  id: number;
  /** The image's size when the snapshot was taken. */
  size: number;
  createdAt: Date;
  protected: boolean;
  /** Clones of the snapshot, trashed ones included. */
  children: number;
}

/** A clone of a snapshot. */
export interface ChildRef {
  pool: string;
  namespace: string;
  name: string;
  id: string;
  /** The clone is in its pool's trash. */
  trash: boolean;
}

/** A page of listImagesPage. */
export interface ImagePage<Items> {
  items: Items;
  /** Whether images follow this page. */
  more: boolean;
  /** The page's last name; undefined for an empty page. */
  last?: string;
}

export interface TrashEntry {
  id: string;
  name: string;
  /** Who put it there: a user (rbd trash mv), mirroring, migration, a removal under way, or a user removing a parent. */
  source: 'user' | 'mirroring' | 'migration' | 'removing' | 'user_parent';
  deletedAt: Date;
  /** Before this, removal needs force. */
  deferredUntil: Date;
}

/** rbd_trash_image_source_t, in its order. */
const TRASH_SOURCES: TrashEntry['source'][] = ['user', 'mirroring', 'migration', 'removing', 'user_parent'];

/** Called on the main thread as a long operation advances, throttled to one call per 1% and per 250 ms, and once at the end. */
export type ProgressCallback = (done: number, total: number) => void;

/** Ten years: beyond that a trash delay is surely a unit mistake. */
export const MAX_TRASH_DELAY_SECONDS = 10 * 365 * 86400;

/** Called as an operation starts; the returned function is called as it ends. */
export type OperationObserver = (op: string) => (error?: CephError) => void;

export interface ClientOptions {
  /** Largest image createImage accepts, in bytes. Default 64 TiB. */
  maxImageSize?: number;
  /** Sees every Ceph operation, for metrics. Default: none. */
  observe?: OperationObserver;
  /**
   * Answer every call with ETIMEDOUT at the latest 0.5 s after librados's
   * timeout, counted from the call, time queued included: a request must get
   * its 504 promptly even when librbd queues its call behind a stalled one.
   * Default false: a caller that queues hundreds of calls itself wants them
   * all to run.
   */
  deadline?: boolean;
}

export class CephClient {
  private closed?: Promise<void>;

  private constructor(
    private readonly cluster: NativeCluster,
    readonly info: NativeConnectInfo,
    /** "client.<id>", named in permission errors. */
    private readonly user: string,
    private readonly maxImageSize: number,
    /** librados's op timeout (CEPH_TIMEOUT_SECONDS), in seconds. */
    private readonly timeoutSeconds: number,
    private readonly deadline: boolean,
    private readonly observe?: OperationObserver,
  ) {}

  /**
   * Connects with the given config. Failures are diagnosed: the error's code
   * says whether the conf, keyring, key or monitors are at fault.
   */
  static async connect(config: CephConfig, options: ClientOptions = {}): Promise<CephClient> {
    const trace = captureTrace(CephClient.connect);
    const maxImageSize = options.maxImageSize ?? DEFAULT_MAX_IMAGE_SIZE;
    validateSize(maxImageSize, Number.MAX_SAFE_INTEGER, 'maxImageSize');
    const confError = checkConfFile(config);
    if (confError) throw withTrace(confError, trace);

    const addon = loadAddon();
    const cluster = new addon.Cluster();
    try {
      const info = await cluster.connect({
        conf: config.conf,
        id: config.id,
        keyring: config.keyring,
        monHost: config.monHost,
        key: config.key,
        timeoutSeconds: config.timeoutSeconds,
      });
      return new CephClient(cluster, info, `client.${config.id}`, maxImageSize, config.timeoutSeconds, options.deadline ?? false, options.observe);
    } catch (err) {
      throw withTrace(isNativeError(err) ? diagnoseConnectError(err, config) : toCephError(err), trace);
    }
  }

  /** Every pool with its id and application tags, as the monitors know them now. */
  async listPools(): Promise<PoolInfo[]> {
    const trace = captureTrace(this.listPools);
    const json = await this.run('listPools', trace, () => this.cluster.listPools(), { needsMonitors: true });
    return (JSON.parse(json) as MonPoolDetail[]).map((pool) => ({
      name: pool.pool_name,
      id: pool.pool_id,
      applications: Object.keys(pool.application_metadata ?? {}),
    }));
  }

  /** Image names and ids in a pool's namespace (default ""). ENOENT if the pool or namespace is missing. */
  async listImages(pool: string, namespace?: string): Promise<ImageRef[]> {
    const trace = captureTrace(this.listImages);
    const p = validateName('pool', pool);
    const ns = validateNamespace(namespace);
    const flat = await this.run('listImages', trace, () => this.cluster.listImages(p, ns));
    const images: ImageRef[] = new Array(flat.length / 2);
    for (let i = 0; i < images.length; i++) images[i] = { name: flat[2 * i]!, id: flat[2 * i + 1]! };
    return images;
  }

  /**
   * One page of a pool's images, sorted by name (by their UTF-8 bytes), from
   * the first name after `after`, at most `limit` (≥ 1). With json, the items
   * come as the JSON text of [{pool, namespace, name, id}, ...], built off
   * the event loop; otherwise as refs. ENOENT if the pool or namespace is missing.
   */
  async listImagesPage(pool: string, namespace: string | undefined, options: { after?: string; limit: number; json: true }): Promise<ImagePage<Buffer>>;
  async listImagesPage(pool: string, namespace: string | undefined, options: { after?: string; limit: number; json?: false }): Promise<ImagePage<ImageRef[]>>;
  async listImagesPage(pool: string, namespace: string | undefined, options: { after?: string; limit: number; json?: boolean }): Promise<ImagePage<Buffer | ImageRef[]>> {
    const trace = captureTrace(this.listImagesPage);
    const p = validateName('pool', pool);
    const ns = validateNamespace(namespace);
    if (!Number.isSafeInteger(options.limit) || options.limit < 1) throw invalidParameterError('limit', 'an integer of at least 1', options.limit);
    const native = { limit: options.limit, json: options.json === true, ...(options.after !== undefined && { after: options.after }) };
    const page = await this.run('listImages', trace, () => this.cluster.listImagesPage(p, ns, native));
    let items: Buffer | ImageRef[];
    if (page.items) {
      items = page.items;
    } else {
      const flat = page.page!;
      items = new Array<ImageRef>(flat.length / 2);
      for (let i = 0; i < items.length; i++) items[i] = { name: flat[2 * i]!, id: flat[2 * i + 1]! };
    }
    return { items, more: page.more, last: page.last ?? undefined };
  }

  /** Creates a format-2 image of size bytes. EEXIST if the name is taken. */
  async createImage(spec: ImageSpec, size: number, options?: CreateImageOptions): Promise<void> {
    const trace = captureTrace(this.createImage);
    const { pool, namespace, name } = validateSpec(spec);
    const bytes = validateSize(size, this.maxImageSize);
    const native = validateCreateOptions(options);
    return this.run('createImage', trace, () => this.cluster.createImage(pool, namespace, name, bytes, native));
  }

  /**
   * createImage, answering with the new image as the cluster recorded it:
   * what statImage would say, read back from the image's id and header
   * objects instead of opening it: two reads, where an open would watch the
   * header and refresh the image over several round trips. Counted as a
   * createImage operation.
   */
  async createImageDescribed(spec: ImageSpec, size: number, options?: CreateImageOptions): Promise<ImageDescription> {
    const trace = captureTrace(this.createImageDescribed);
    const { pool, namespace, name } = validateSpec(spec);
    const bytes = validateSize(size, this.maxImageSize);
    const native = validateCreateOptions(options);
    const created = await this.run('createImage', trace, () => this.cluster.createImage(pool, namespace, name, bytes, native, true));
    if (created !== null) return describe(pool, namespace, name, created);
    // Created, but its objects were not in the format the addon reads: librbd knows them.
    const { snapshotCount, watchers, parent, dataPool, ...description } = await this.statImage({ pool, namespace, name });
    return description;
  }

  /** Size, layout, features, id, creation time, snapshot count, watchers, parent and data pool. */
  async statImage(spec: ImageSpec): Promise<ImageInfo> {
    const trace = captureTrace(this.statImage);
    const { pool, namespace, name } = validateSpec(spec);
    const stat = await this.run('statImage', trace, () => this.cluster.statImage(pool, namespace, name));
    return imageInfo(pool, namespace, name, stat);
  }

  /**
   * Bytes in use as `rbd du` counts them: each user snapshot diffed from the
   * one before it, then the head from the last snapshot, in whole objects,
   * without the parent's data. Equals `rbd du --format json`'s total_used_size
   * for the image alone.
   */
  async imageUsage(spec: ImageSpec): Promise<number> {
    const trace = captureTrace(this.imageUsage);
    const { pool, namespace, name } = validateSpec(spec);
    return this.run('imageUsage', trace, () => this.cluster.imageUsage(pool, namespace, name));
  }

  /**
   * Grows or (with allowShrink) shrinks an image; shrinking without
   * allowShrink is librbd's EINVAL, and changes nothing. Answers with the
   * image as statImage would, read from the handle that resized it (our own
   * watch left out), and the size it had before.
   */
  async resizeImage(spec: ImageSpec, size: number, options: { allowShrink?: boolean } = {}): Promise<ImageInfo & { previousSize: number }> {
    const trace = captureTrace(this.resizeImage);
    const { pool, namespace, name } = validateSpec(spec);
    const bytes = validateSize(size, this.maxImageSize);
    const allowShrink = validateFlag('options.allowShrink', options.allowShrink);
    const stat = await this.run('resizeImage', trace, () => this.cluster.resizeImage(pool, namespace, name, bytes, allowShrink));
    return { ...imageInfo(pool, namespace, name, stat), previousSize: stat.previousSize };
  }

  /** Takes a snapshot. EEXIST if the name is taken. */
  async createSnapshot(spec: ImageSpec, snapshot: string): Promise<void> {
    const trace = captureTrace(this.createSnapshot);
    const { pool, namespace, name } = validateSpec(spec);
    const snap = validateName('snapshot', snapshot);
    return this.run('createSnapshot', trace, () => this.cluster.createSnapshot(pool, namespace, name, snap));
  }

  /** The image's user snapshots, in snapshot id order (oldest first). */
  async listSnapshots(spec: ImageSpec): Promise<SnapshotInfo[]> {
    const trace = captureTrace(this.listSnapshots);
    const { pool, namespace, name } = validateSpec(spec);
    const snaps = await this.run('listSnapshots', trace, () => this.cluster.listSnapshots(pool, namespace, name));
    return snaps.map((s) => ({ name: s.name, id: s.id, size: s.size, createdAt: new Date(s.createdAtMs), protected: s.protected, children: s.children }));
  }

  /** Removes a snapshot; unprotect first unprotects it. ENOENT if missing, EBUSY if protected (or it has v1 clones). */
  async removeSnapshot(spec: ImageSpec, snapshot: string, options: { unprotect?: boolean } = {}): Promise<void> {
    const trace = captureTrace(this.removeSnapshot);
    const { pool, namespace, name } = validateSpec(spec);
    const snap = validateName('snapshot', snapshot);
    const unprotect = validateFlag('options.unprotect', options.unprotect);
    return this.run('removeSnapshot', trace, () => this.cluster.removeSnapshot(pool, namespace, name, snap, unprotect));
  }

  /** Protects a snapshot (needed for v1 clones). EBUSY if already protected. */
  async protectSnapshot(spec: ImageSpec, snapshot: string): Promise<void> {
    const trace = captureTrace(this.protectSnapshot);
    const { pool, namespace, name } = validateSpec(spec);
    const snap = validateName('snapshot', snapshot);
    return this.run('protectSnapshot', trace, () => this.cluster.protectSnapshot(pool, namespace, name, snap));
  }

  /** Unprotects a snapshot. EBUSY while it has clones, EINVAL if not protected. */
  async unprotectSnapshot(spec: ImageSpec, snapshot: string): Promise<void> {
    const trace = captureTrace(this.unprotectSnapshot);
    const { pool, namespace, name } = validateSpec(spec);
    const snap = validateName('snapshot', snapshot);
    return this.run('unprotectSnapshot', trace, () => this.cluster.unprotectSnapshot(pool, namespace, name, snap));
  }

  /** The clones of image@snapshot, trashed ones included. */
  async listChildren(spec: ImageSpec, snapshot: string): Promise<ChildRef[]> {
    const trace = captureTrace(this.listChildren);
    const { pool, namespace, name } = validateSpec(spec);
    const snap = validateName('snapshot', snapshot);
    return this.run('listChildren', trace, () => this.cluster.listChildren(pool, namespace, name, snap));
  }

  /**
   * Rolls the image back to a user snapshot, unless others watch it (a
   * mapped image: its filesystem must not have its blocks rewritten under
   * it). Answers with the image as restored, or as it is with rolledBack
   * false and its watchers (our own open's watch left out). ENOENT for a
   * missing image or snapshot. Long: no deadline.
   */
  async rollbackImage(spec: ImageSpec, snapshot: string, options: { onProgress?: ProgressCallback } = {}): Promise<{ rolledBack: boolean; image: ImageInfo }> {
    const trace = captureTrace(this.rollbackImage);
    const { pool, namespace, name } = validateSpec(spec);
    const snap = validateName('snapshot', snapshot);
    const onProgress = validateProgress(options.onProgress);
    const stat = await this.run('rollbackImage', trace, () => this.cluster.rollbackImage(pool, namespace, name, snap, onProgress), { long: true });
    return { rolledBack: stat.rolledBack, image: imageInfo(pool, namespace, name, stat) };
  }

  /**
   * Clones parent@snapshot as child (format 2, in the child's own pool and
   * namespace). cloneFormat 1 or 2, or librbd's default: 2 when the cluster
   * requires mimic clients or newer (requiredMinCompatClient), else 1, which
   * needs a protected snapshot (EINVAL otherwise). EEXIST if the child's name
   * is taken, ENOENT for a missing parent or snapshot. Answers with the clone
   * as statImage would.
   */
  async cloneImage(
    parent: ImageSpec,
    snapshot: string,
    child: ImageSpec,
    options: { features?: CreatableFeature[]; cloneFormat?: 1 | 2 } = {},
  ): Promise<ImageInfo> {
    const trace = captureTrace(this.cloneImage);
    const p = validateSpec(parent, 'parent');
    const snap = validateName('snapshot', snapshot);
    const c = validateSpec(child, 'child');
    if (typeof options !== 'object' || options === null) throw invalidParameterError('options', 'an object { features?, cloneFormat? }', options);
    const { features } = validateCreateOptions(options.features === undefined ? {} : { features: options.features });
    const cloneFormat = options.cloneFormat;
    if (cloneFormat !== undefined && cloneFormat !== 1 && cloneFormat !== 2) {
      throw invalidParameterError('options.cloneFormat', '1 or 2', cloneFormat);
    }
    const native = { ...(features !== undefined && { features }), ...(cloneFormat !== undefined && { cloneFormat }) };
    const created = await this.run('cloneImage', trace, () =>
      this.cluster.cloneImage(p.pool, p.namespace, p.name, snap, c.pool, c.namespace, c.name, native),
    );
    // Read back from the clone's objects, as createImageDescribed does: a new
    // clone has no snapshots nor watchers, and the parent asked for. A data
    // pool's name, and objects in a format the addon does not read, need a stat.
    if (created === null || created.dataPoolId >= 0) return this.statImage(c);
    return {
      ...describe(c.pool, c.namespace, c.name, created),
      snapshotCount: 0,
      watchers: [],
      parent: { pool: p.pool, namespace: p.namespace, image: p.name, snapshot: snap },
      dataPool: null,
    };
  }

  /** Copies the parent's data into a clone and detaches it. EINVAL without a parent. Long: no deadline. */
  async flattenImage(spec: ImageSpec, options: { onProgress?: ProgressCallback } = {}): Promise<void> {
    const trace = captureTrace(this.flattenImage);
    const { pool, namespace, name } = validateSpec(spec);
    const onProgress = validateProgress(options.onProgress);
    return this.run('flattenImage', trace, () => this.cluster.flattenImage(pool, namespace, name, onProgress), { long: true });
  }

  /**
   * The cluster's require_min_compat_client as a release number (luminous 12,
   * mimic 13, nautilus 14, ...), as the monitors have it now (this client's
   * copy of the osdmap when they do not answer): it decides the clone format.
   */
  async requiredMinCompatClient(): Promise<number> {
    const trace = captureTrace(this.requiredMinCompatClient);
    return this.run('minCompatClient', trace, () => this.cluster.minCompatClient());
  }

  /** The trash of a pool's namespace (default ""). ENOENT if the pool or namespace is missing. */
  async listTrash(pool: string, namespace?: string): Promise<TrashEntry[]> {
    const trace = captureTrace(this.listTrash);
    const p = validateName('pool', pool);
    const ns = validateNamespace(namespace);
    const entries = await this.run('listTrash', trace, () => this.cluster.listTrash(p, ns));
    return entries.map((e) => ({
      id: e.id,
      name: e.name,
      source: TRASH_SOURCES[e.source] ?? 'user',
      deletedAt: new Date(e.deletedAtS * 1000),
      deferredUntil: new Date(e.deferredUntilS * 1000),
    }));
  }

  /**
   * Restores a trashed image, under name or (by default) its original name,
   * and answers with it as statImage would. An image librbd itself moved
   * there (source other than user or user_parent: a removal, migration or
   * mirroring under way) is left, and the answer says so with its name and
   * source. ENOENT unknown id, EEXIST name taken.
   */
  async restoreTrash(
    pool: string,
    namespace: string | undefined,
    id: string,
    name?: string,
  ): Promise<{ restored: true; image: ImageInfo } | { restored: false; name: string; source: TrashEntry['source'] }> {
    const trace = captureTrace(this.restoreTrash);
    const p = validateName('pool', pool);
    const ns = validateNamespace(namespace);
    const trashId = validateTrashId(id);
    const newName = name === undefined || name === '' ? '' : validateName('name', name);
    const out = await this.run('restoreTrash', trace, () => this.cluster.restoreTrash(p, ns, trashId, newName));
    if (!out.restored) return { restored: false, name: out.name, source: TRASH_SOURCES[out.source] ?? 'user' };
    return { restored: true, image: imageInfo(p, ns, out.name, out) };
  }

  /**
   * Removes a trashed image for good. purgeSnapshots first removes its user
   * snapshots (unprotecting them), unless one has clones: then nothing is
   * removed and the error is ECHILD naming that snapshot. Without force, an
   * image whose trash delay has not passed is EPERM. Long: no deadline.
   */
  async removeTrash(
    pool: string,
    namespace: string | undefined,
    id: string,
    options: { force?: boolean; purgeSnapshots?: boolean; onProgress?: ProgressCallback } = {},
  ): Promise<void> {
    const trace = captureTrace(this.removeTrash);
    const p = validateName('pool', pool);
    const ns = validateNamespace(namespace);
    const trashId = validateTrashId(id);
    const force = validateFlag('options.force', options.force);
    const purge = validateFlag('options.purgeSnapshots', options.purgeSnapshots);
    const onProgress = validateProgress(options.onProgress);
    return this.run('removeTrash', trace, () => this.cluster.removeTrash(p, ns, trashId, force, purge, onProgress), { long: true });
  }

  /** Removes an image. EBUSY with watchers, ENOTEMPTY with snapshots. */
  async removeImage(spec: ImageSpec): Promise<void> {
    const trace = captureTrace(this.removeImage);
    const { pool, namespace, name } = validateSpec(spec);
    return this.run('removeImage', trace, () => this.cluster.removeImage(pool, namespace, name));
  }

  /**
   * Moves an image to the pool's trash; it can't be purged before delaySeconds
   * (default 0, at most 10 years) have passed.
   */
  async trashImage(spec: ImageSpec, delaySeconds = 0): Promise<void> {
    const trace = captureTrace(this.trashImage);
    const { pool, namespace, name } = validateSpec(spec);
    const delay = validateInteger('delaySeconds', delaySeconds, 0, MAX_TRASH_DELAY_SECONDS, ' of seconds');
    return this.run('trashImage', trace, () => this.cluster.trashMove(pool, namespace, name, delay));
  }

  /** Shuts the connection down after in-flight calls finish. Idempotent. */
  close(): Promise<void> {
    this.closed ??= this.cluster.close();
    return this.closed;
  }

  /**
   * Runs one native call: metrics, the deadline, errors as CephError with the
   * caller's stack. A call that needs the monitors and times out is blamed on
   * them: image calls go to the OSDs and would still work. Long calls
   * (rollback, flatten, trash removal) legitimately run for minutes on large
   * images, so the deadline does not apply to them.
   */
  private async run<T>(op: string, trace: Trace, call: () => Promise<T>, { needsMonitors = false, long = false } = {}): Promise<T> {
    const done = this.observe?.(op);
    try {
      const result = await (long ? call() : this.withDeadline(op, call()));
      done?.();
      return result;
    } catch (err) {
      let error = toCephError(err, this.user);
      if (needsMonitors && error.code === 'ETIMEDOUT' && !EXPIRED.has(error)) error = this.monitorsUnreachable(op, error);
      withTrace(error, trace);
      done?.(error);
      throw error;
    }
  }

  private monitorsUnreachable(op: string, cause: CephError): CephError {
    return new CephError(
      'ERR_CEPH_MON_UNREACHABLE',
      `No Ceph monitor answered within ${this.timeoutSeconds} s at ${this.info.monHost} (${op} asks the monitors). ` +
        'Check that ceph-mon is running and reachable from this node ("ceph -s" shows the quorum); ' +
        'image create, delete and list go straight to the OSDs and keep working meanwhile.',
      { op, cause, details: { monHost: this.info.monHost } },
    );
  }

  /**
   * With the deadline option, rejects with ETIMEDOUT at the latest half a
   * second after librados's own timeout: librbd runs its steps on one thread
   * (rbd_op_threads), so with an OSD gone, calls queue behind each other's
   * timeouts and would answer one by one, seconds apart. The call itself
   * runs on, and may still complete.
   */
  private withDeadline<T>(op: string, pending: Promise<T>): Promise<T> {
    if (!this.deadline) return pending;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        const error = new CephError(
          'ETIMEDOUT',
          `Ceph did not answer within ${this.timeoutSeconds} s (${op}); the operation may still complete, so check before retrying. ` +
            'An OSD or monitor is down or overloaded: see "ceph -s".',
          { op },
        );
        EXPIRED.add(error);
        reject(error);
      }, this.timeoutSeconds * 1000 + 500);
    });
    return Promise.race([pending, expired]).finally(() => clearTimeout(timer));
  }
}

// Timeouts of the deadline, not of librados: had the call been running,
// librados's own would have come first, so it was queued behind others.
const EXPIRED = new WeakSet<CephError>();

/** One shape for both sources, so a create and a later stat of the image answer alike. */
function describe(pool: string, namespace: string, name: string, image: NativeImageDescription): ImageDescription {
  return {
    pool,
    namespace,
    name,
    id: image.id,
    size: image.size,
    objectSize: image.objectSize,
    order: image.order,
    features: featureNames(image.features),
    featureBits: image.features,
    stripeUnit: image.stripeUnit,
    stripeCount: image.stripeCount,
    dataPoolId: image.dataPoolId >= 0 ? image.dataPoolId : null,
    createdAt: new Date(image.createdAtMs),
  };
}

function imageInfo(pool: string, namespace: string, name: string, stat: NativeImageStat): ImageInfo {
  return {
    ...describe(pool, namespace, name, stat),
    snapshotCount: stat.snapshotCount,
    watchers: stat.watchers,
    parent: stat.parent,
    dataPool: stat.dataPool,
  };
}

function validateSpec(spec: ImageSpec, parameter = 'spec'): Required<ImageSpec> {
  if (typeof spec !== 'object' || spec === null) {
    throw invalidParameterError(parameter, 'an object { pool, namespace?, name }', spec);
  }
  return {
    pool: validateName('pool', spec.pool),
    namespace: validateNamespace(spec.namespace),
    name: validateName('image', spec.name),
  };
}

function validateFlag(parameter: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw invalidParameterError(parameter, 'true or false', value);
  return value;
}

function validateProgress(value: unknown): NativeProgress | undefined {
  if (value !== undefined && typeof value !== 'function') throw invalidParameterError('options.onProgress', 'a function (done, total)', value);
  return value as NativeProgress | undefined;
}

/**
 * The caller's stack, captured before the first await, minus our own frames.
 * V8 formats .stack lazily, so a call that succeeds never pays for formatting.
 */
type Trace = { stack?: string };
function captureTrace(fn: (...args: never[]) => unknown): Trace {
  const trace: Trace = {};
  Error.captureStackTrace(trace, fn);
  return trace;
}

/** Errors made on a libuv callback have no JS frames; give them the caller's. */
function withTrace(err: CephError, trace: Trace): CephError {
  const frames = trace.stack?.slice(trace.stack.indexOf('\n') + 1) ?? '';
  err.stack = `${err.name} [${err.code}]: ${err.message}\n${frames}`;
  return err;
}

function toCephError(err: unknown, user?: string): CephError {
  if (err instanceof CephError) return err;
  if (!isNativeError(err)) {
    return new CephError('ERR_INVALID_PARAMETER', (err as Error)?.message ?? String(err), { cause: err });
  }
  return new CephError(err.code, describeNativeError(err, user), {
    errno: err.errno,
    op: err.op,
    pool: err.pool,
    namespace: err.namespace,
    image: err.image,
    snapshot: err.snapshot,
    cause: err,
  });
}

// A snapshot op's ENOENT from these calls came after the image opened: the snapshot is missing.
const SNAPSHOT_LOOKUPS = new Set([
  'rbd_snap_set',
  'rbd_snap_remove2',
  'rbd_snap_protect',
  'rbd_snap_unprotect',
  'rbd_snap_rollback_with_progress',
  'rbd_snap_exists',
]);
// Calls given a trash id: ENOENT means no such id in that trash.
const TRASH_ID_CALLS = new Set(['rbd_trash_get', 'rbd_trash_restore', 'rbd_trash_remove_with_progress', 'rbd_open_by_id']);

function describeNativeError(err: NativeError, user?: string): string {
  const ns = err.namespace ? `/${err.namespace}` : '';
  const image = `${err.pool}${ns}/${err.image}`;
  const target = err.image
    ? `image "${image}${err.snapshot ? `@${err.snapshot}` : ''}"`
    : err.pool
      ? `pool "${err.pool}${ns}"${err.id ? ` (trash id ${err.id})` : ''}`
      : 'the cluster';
  const hint = catalogued(err.code)?.message;
  if (err.code === 'ENOENT') {
    if (err.op === 'rados_ioctx_create') return `Pool "${err.pool}" does not exist.`;
    if (err.op === 'rbd_namespace_exists') return `Namespace "${err.namespace}" does not exist in pool "${err.pool}".`;
    if (err.snapshot && err.image && SNAPSHOT_LOOKUPS.has(err.op)) return `Snapshot "${image}@${err.snapshot}" does not exist.`;
    // Parent and snapshot were found (the addon looked): the child's side is missing.
    if (err.op === 'rbd_clone3') return `Cannot create clone "${image}": namespace "${err.namespace}" does not exist in pool "${err.pool}".`;
    if (err.id && TRASH_ID_CALLS.has(err.op)) return `No image with id "${err.id}" is in the trash of "${err.pool}${ns}".`;
    if (err.image) return `Image "${image}" does not exist (or its pool or namespace does not).`;
  }
  if (err.code === 'EPERM' && err.deferredUntil) {
    const until = new Date(Number(err.deferredUntil) * 1000).toISOString();
    return `Image ${err.image ? `"${image}" ` : ''}(trash id ${err.id}) stays in the trash until ${until}; remove it with force to purge it sooner (${err.op}).`;
  }
  if (err.code === 'ECHILD' && err.snapshot) {
    return `Snapshot "${image}@${err.snapshot}" has clones; flatten or remove them first (${err.op}).`;
  }
  if (err.code === 'ENOTCONN' || err.code === 'ESHUTDOWN') return `${hint} (${err.op})`;
  if ((err.code === 'EPERM' || err.code === 'EACCES') && user) return `${err.op} on ${target} failed (${err.code}): ${missingCaps(user, err.pool)}`;
  return `${err.op} on ${target} failed: ${hint ?? err.message} (${err.code})`;
}

/**
 * The caps a denied operation needs, and the command that grants them. The OSD
 * answers a pool outside the user's caps with a bare EPERM (the monitors with
 * EACCES), so name the user and the pool. `ceph auth caps` replaces all caps,
 * hence "keeping the ones it has".
 */
function missingCaps(user: string, pool?: string): string {
  const grant = `profile rbd pool=${pool ?? '<pool>'}`;
  return (
    `Ceph user ${user} lacks the caps for ${pool ? `pool "${pool}"` : 'this operation'}; it needs mon 'profile rbd' and osd '${grant}'. ` +
    `Grant them, keeping the ones it has: ceph auth caps ${user} mon 'profile rbd' osd '<its grants>, ${grant}' mgr '<its grants>, ${grant}'` +
    `${pool ? '; or use a pool it may access' : ''}.`
  );
}
