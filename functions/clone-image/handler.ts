/**
 * clone-image: POST with pool, namespace, image, snapshot, name, targetPool,
 * targetNamespace, features → 201 Image with its parent. The same clone
 * again → 200; a different image of that name → 409 AlreadyExists; a
 * missing parent or snapshot → 404. Clones are v2 (no protection needed)
 * when the cluster requires mimic clients or newer; otherwise v1, and the
 * snapshot is protected first, which the answer says (warnings, and a
 * Warning header).
 */
import type { CephClient, ImageInfo, ImageSpec } from '../../shared/ceph/client';
import type { CreatableFeature } from '../../shared/ceph/features';
import { CephError } from '../../shared/errors';
import { imageDetailResource, imagePath, snapshotPath } from '../../shared/resources';
import type { FunctionContext, FunctionEvent } from '../../shared/runtime/context';
import { eventTypes } from '../../shared/runtime/event-types';
import { snapshotOf } from '../../shared/runtime/lookup';
import { Params, checkPoolAllowed } from '../../shared/runtime/params';
import { SingleFlight } from '../../shared/runtime/single-flight';
import { HttpError } from '../../shared/runtime/status';
import { validateCreateOptions } from '../../shared/validation';

export const methods = ['POST'] as const;

/** The parameters it takes, in the query string or the body; any other is refused (400). */
export const parameters = ['pool', 'namespace', 'image', 'snapshot', 'name', 'targetPool', 'targetNamespace', 'features'] as const;

/** As a CloudEvent: takes io.ceph.rbd.image.clone, replies io.ceph.rbd.image.cloned (or io.ceph.rbd.error). */
export const events = eventTypes('image.clone', 'image.cloned');

/** Ceph's release number for mimic, the first whose clients read clone v2. */
const MIMIC = 13;

interface Cloned {
  info: ImageInfo;
  created: boolean;
  warnings: string[];
}

/** Identical clones in flight in this process share one call; the joiners answer 200. */
const clones = new SingleFlight<Cloned>();

export default async function cloneImage(event: FunctionEvent, context: FunctionContext) {
  const params = new Params(event);
  const allowed = context.settings.allowedPools;
  const parent = params.image('image', allowed);
  const snapshot = params.name('snapshot');
  const child: Required<ImageSpec> = {
    pool: params.has('targetPool') ? params.name('targetPool') : parent.pool,
    namespace: params.has('targetNamespace') ? params.namespace('targetNamespace') : parent.namespace,
    name: params.name('name'),
  };
  checkPoolAllowed(allowed, child.pool);
  const features = params.features();
  // Before anything changes: a v1 clone protects the snapshot first.
  validateCreateOptions({ features });

  const ceph = await context.ceph();
  const key = JSON.stringify([parent, snapshot, child, features]);
  const { value, joined } = await clones.run(key, () => clone(ceph, parent, snapshot, child, features));
  const created = value.created && !joined;
  if (created) context.changed();
  const warnings = joined ? [] : value.warnings;
  if (warnings.length > 0) context.headers({ Warning: warnings.map((w) => `299 rbd-functions ${JSON.stringify(w)}`).join(', ') });
  const image = imageDetailResource(value.info);
  return context.status(created ? 201 : 200).succeed(warnings.length > 0 ? { ...image, warnings } : image);
}

async function clone(
  ceph: CephClient,
  parent: Required<ImageSpec>,
  snapshot: string,
  child: Required<ImageSpec>,
  features: CreatableFeature[] | undefined,
): Promise<Cloned> {
  const cloneFormat = (await ceph.requiredMinCompatClient()) >= MIMIC ? 2 : 1;
  const warnings: string[] = [];
  // v2 needs nothing of the snapshot (librbd's ENOENT names a missing one) and
  // tries the clone first, looking at the child only if its name is taken: a
  // repeat is rare, and a lookup costs an image open. v1 may protect the
  // snapshot, which a 409 for a taken name must not leave behind: it looks first.
  if (cloneFormat === 1) {
    const existing = await existingClone(ceph, parent, snapshot, child);
    if (existing) return { info: existing, created: false, warnings: [] };
  }
  if (cloneFormat === 1 && !(await snapshotOf(ceph, parent, snapshot)).protected) {
    try {
      await ceph.protectSnapshot(parent, snapshot);
    } catch (err) {
      if (!(err instanceof CephError && err.code === 'EBUSY')) throw err; // protected meanwhile
    }
    warnings.push(
      `Protected snapshot "${snapshotPath(parent, snapshot)}" first: the cluster lets clients older than mimic connect ` +
        '(require_min_compat_client), so clones are v1 and need a protected snapshot. It stays protected while clones depend on it; ' +
        '"ceph osd set-require-min-compat-client mimic" enables v2 clones, which need no protection.',
    );
  }
  try {
    return { info: await ceph.cloneImage(parent, snapshot, child, { features, cloneFormat }), created: true, warnings };
  } catch (err) {
    if (!(err instanceof CephError && err.code === 'EEXIST')) throw err;
    // This clone already (a repeat, or a race), or 409 for another image.
    const existing = await existingClone(ceph, parent, snapshot, child);
    if (existing) return { info: existing, created: false, warnings: [] };
    throw err; // gone again meanwhile: let the caller retry
  }
}

/** The child, if it exists and is this clone (undefined if it is gone again); 409 if the name holds another image. */
async function existingClone(ceph: CephClient, parent: Required<ImageSpec>, snapshot: string, child: Required<ImageSpec>): Promise<ImageInfo | undefined> {
  let info: ImageInfo;
  try {
    info = await ceph.statImage(child);
  } catch (err) {
    if (err instanceof CephError && err.code === 'ENOENT' && err.op !== 'rados_ioctx_create' && err.op !== 'rbd_namespace_exists') return undefined;
    throw err;
  }
  const p = info.parent;
  if (p && p.pool === parent.pool && p.namespace === parent.namespace && p.image === parent.name && p.snapshot === snapshot) return info;
  throw new HttpError(
    409,
    'AlreadyExists',
    `Image "${imagePath(child)}" already exists and is not a clone of "${snapshotPath(parent, snapshot)}" (${p ? `its parent is ${snapshotPath({ pool: p.pool, namespace: p.namespace, name: p.image }, p.snapshot)}` : 'it has no parent'}). Use another name, or delete it first.`,
    { ...child, parent: p },
  );
}
