/**
 * Keeps secrets out of answers: a cephx key (base64 of 28 bytes: "AQ", 36
 * more characters and "==") or a registered secret (the API token) is replaced, even
 * where a caller pasted it into a field by mistake and an error would echo it
 * back (and on into proxies' and clients' logs).
 */
const CEPHX_KEY = /AQ[A-Za-z0-9+/]{36}(==)?/g;
const secrets = new Set<string>();

/** Adds a value to hide from now on (ignored when shorter than 8 characters). */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 8) secrets.add(value);
}

export function scrub(text: string): string {
  let out = text.replace(CEPHX_KEY, '[redacted]');
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join('[redacted]');
  return out;
}

/** scrub() on every string of a JSON-like value. */
export function scrubValue<T>(value: T): T {
  if (typeof value === 'string') return scrub(value) as T;
  if (Array.isArray(value)) return value.map(scrubValue) as T;
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubValue(v)])) as T;
  }
  return value;
}
