/** RBD feature bits, from rbd/features.h. */
export const FEATURE_BITS = {
  layering: 1,
  striping: 2,
  'exclusive-lock': 4,
  'object-map': 8,
  'fast-diff': 16,
  'deep-flatten': 32,
  journaling: 64,
  'data-pool': 128,
  operations: 256,
  migrating: 512,
  'non-primary': 1024,
  'dirty-cache': 2048,
} as const;

export type FeatureName = keyof typeof FEATURE_BITS;

/** Features a caller may ask for at create time; the rest librbd sets itself. */
export const CREATABLE_FEATURES = [
  'layering',
  'striping',
  'exclusive-lock',
  'object-map',
  'fast-diff',
  'deep-flatten',
  'journaling',
] as const satisfies readonly FeatureName[];

export type CreatableFeature = (typeof CREATABLE_FEATURES)[number];

/** What each feature needs enabled alongside it, or librbd answers EINVAL. */
export const FEATURE_REQUIRES: Partial<Record<CreatableFeature, CreatableFeature>> = {
  'object-map': 'exclusive-lock',
  'fast-diff': 'object-map',
  journaling: 'exclusive-lock',
};

/** librbd's default set: layering, exclusive-lock, object-map, fast-diff, deep-flatten. */
export const DEFAULT_FEATURES: readonly CreatableFeature[] = [
  'layering',
  'exclusive-lock',
  'object-map',
  'fast-diff',
  'deep-flatten',
];

export function featureMask(names: readonly FeatureName[]): number {
  return names.reduce((mask, name) => mask | FEATURE_BITS[name], 0);
}

/** Names of the bits set in mask, in bit order; unknown bits are dropped. */
export function featureNames(mask: number): FeatureName[] {
  return (Object.keys(FEATURE_BITS) as FeatureName[]).filter((name) => (mask & FEATURE_BITS[name]) !== 0);
}
