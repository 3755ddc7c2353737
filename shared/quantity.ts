/**
 * Kubernetes resource quantities as whole bytes: "512Mi", "10Gi", "1T",
 * "1.5Gi", "1e9". Fractions are allowed only when the result is whole.
 */
const MULTIPLIERS: Record<string, bigint> = {
  '': 1n,
  k: 10n ** 3n,
  M: 10n ** 6n,
  G: 10n ** 9n,
  T: 10n ** 12n,
  P: 10n ** 15n,
  E: 10n ** 18n,
  Ki: 2n ** 10n,
  Mi: 2n ** 20n,
  Gi: 2n ** 30n,
  Ti: 2n ** 40n,
  Pi: 2n ** 50n,
  Ei: 2n ** 60n,
};

const QUANTITY = /^\+?(\d+)(?:\.(\d*))?(?:([eE])([+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E))?$/;

/** Bytes as a bigint, or undefined if text is not a whole-byte quantity. */
export function parseQuantity(text: string): bigint | undefined {
  const match = QUANTITY.exec(text.trim());
  if (!match) return undefined;
  const [, whole, fraction = '', exp, expDigits, suffix = ''] = match;
  let numerator = BigInt(whole! + fraction);
  let denominator = 10n ** BigInt(fraction.length);
  if (exp) {
    const e = Number(expDigits);
    if (Math.abs(e) > 30) return undefined;
    if (e >= 0) numerator *= 10n ** BigInt(e);
    else denominator *= 10n ** BigInt(-e);
  }
  numerator *= MULTIPLIERS[suffix]!;
  return numerator % denominator === 0n ? numerator / denominator : undefined;
}
