/**
 * What each function parameter means and what it defaults to, as the
 * parameter tables of docs/functions.md show them (Markdown). The names and
 * their order come from each handler's `parameters`; `npm run docs` writes
 * the tables from both, and a unit test fails when a declared parameter has
 * no entry here or the tables are out of date.
 *
 * A leaf module: it imports nothing, so anything may read it.
 */

export interface ParameterDoc {
  /** `required`, a value in backticks, or words (`none`, `its old name`). */
  default: string;
  /** May be empty when the name says it all. */
  meaning: string;
}

const REQUIRED = 'required';

/** Parameters several functions take, with what they mean in most of them. */
export const COMMON_PARAMETER_DOCS: Readonly<Record<string, ParameterDoc>> = {
  pool: { default: REQUIRED, meaning: '' },
  namespace: { default: '`""`', meaning: '' },
  name: { default: REQUIRED, meaning: '' },
  image: { default: REQUIRED, meaning: '' },
  snapshot: { default: REQUIRED, meaning: '' },
  size: {
    default: REQUIRED,
    meaning:
      'bytes (a JSON number or digits), or a Kubernetes quantity: `10Gi`, `1.5Gi`, `512Mi`, `1T` (10¹²), `1e9`; ' +
      'suffixes `k M G T P E` are powers of 1000, `Ki Mi Gi Ti Pi Ei` powers of 1024; fractions only where they ' +
      'give whole bytes. From 1 byte to `RBD_MAX_IMAGE_SIZE` (default `64Ti`)',
  },
  features: {
    default: "librbd's: `layering`, `exclusive-lock`, `object-map`, `fast-diff`, `deep-flatten`",
    meaning:
      'a JSON array or a comma-separated string of `layering`, `striping`, `exclusive-lock`, `object-map`, ' +
      '`fast-diff`, `deep-flatten`, `journaling`; `object-map` and `journaling` need `exclusive-lock`, ' +
      '`fast-diff` needs `object-map`',
  },
};

/** create-image's stripeUnit and stripeCount: one entry, so they share a row, as "both or neither" says. */
const STRIPING: ParameterDoc = {
  default: 'no striping',
  meaning: 'both or neither; the stripe unit is a power of two dividing the object size. librbd then adds the `striping` feature',
};

/** clone-image's image and snapshot: one entry, so they share a row. */
const PARENT_SNAPSHOT: ParameterDoc = { default: REQUIRED, meaning: 'the parent image and its snapshot' };

/** Parameters of one function only, and where a common one means something else there. */
export const FUNCTION_PARAMETER_DOCS: Readonly<Record<string, Readonly<Record<string, ParameterDoc>>>> = {
  'list-pools': {
    all: { default: '`false`', meaning: 'list every pool, tagged or not' },
  },
  'list-images': {
    detail: {
      default: '`false`',
      meaning:
        'also `size`, `objectSize`, `features`, `createdAt`, `snapshots` (a count) and `watchers` (addresses); ' +
        "only the page's images are opened, 16 at a time, and images deleted meanwhile drop out",
    },
    limit: { default: '`1000` (1–10000); with `detail=true` `100` (1–1000)', meaning: 'images per page' },
    continue: {
      default: '—',
      meaning: 'the `metadata.continue` token of the previous page (valid for the same pool and namespace only)',
    },
  },
  'create-image': {
    namespace: { default: '`""`', meaning: 'must exist' },
    objectSize: { default: '`4Mi`', meaning: 'a power of two from `4Ki` to `32Mi`, bytes or quantity' },
    stripeUnit: STRIPING,
    stripeCount: STRIPING,
    dataPool: {
      default: 'none',
      meaning: 'a separate pool for the data objects (e.g. erasure-coded); `RBD_POOLS` applies to it too',
    },
  },
  'delete-image': {
    trash: {
      default: '`false`',
      meaning:
        "move the image to the pool's trash instead (no deferment: `rbd trash restore` brings it back, `rbd trash purge` removes it)",
    },
  },
  'get-image': {
    usage: {
      default: '`false`',
      meaning:
        "also `usedBytes`, as `rbd du` counts them: each snapshot's allocation since the one before plus the head's " +
        "since the last snapshot, whole objects (fast when `fast-diff` is on, a walk of the image's objects otherwise)",
    },
  },
  'resize-image': {
    size: { default: REQUIRED, meaning: 'in bytes or as a quantity, as for create-image' },
    allowShrink: { default: '`false`', meaning: 'a smaller size cuts off the data beyond it: only with `true`' },
  },
  'create-snapshot': {
    image: { default: REQUIRED, meaning: 'the image the snapshot belongs to' },
    snapshot: { default: REQUIRED, meaning: 'follows the image-name rules' },
    protect: {
      default: '`false`',
      meaning: "protect it too (clone v1 needs that; a protected snapshot can't be deleted by accident)",
    },
  },
  'delete-snapshot': {
    unprotect: { default: '`false`', meaning: 'unprotect a protected snapshot, then delete it' },
  },
  'clone-image': {
    pool: { default: REQUIRED, meaning: "the parent's pool" },
    namespace: { default: '`""`', meaning: "the parent's namespace" },
    image: PARENT_SNAPSHOT,
    snapshot: PARENT_SNAPSHOT,
    name: { default: REQUIRED, meaning: 'the clone' },
    targetPool: { default: '`pool`', meaning: "the clone's pool" },
    targetNamespace: { default: '`namespace`', meaning: "the clone's namespace (must exist)" },
    features: { default: "librbd's default", meaning: 'as for create-image' },
  },
  'restore-image': {
    id: { default: REQUIRED, meaning: 'from list-trash' },
    name: { default: 'its old name', meaning: 'restore under another name' },
  },
  'purge-trash': {
    expiredOnly: {
      default: '`true`',
      meaning: 'skip images whose deferment has not ended; `false` purges them too',
    },
  },
};

/** The entry for `parameter` of function `fn`: its own if it has one, else the common one. */
export function parameterDoc(fn: string, parameter: string): ParameterDoc | undefined {
  const own = FUNCTION_PARAMETER_DOCS[fn];
  if (own && Object.hasOwn(own, parameter)) return own[parameter];
  return Object.hasOwn(COMMON_PARAMETER_DOCS, parameter) ? COMMON_PARAMETER_DOCS[parameter] : undefined;
}
