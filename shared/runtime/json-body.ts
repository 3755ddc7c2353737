/**
 * Checks on a JSON body's text before it is parsed: how deep it nests, and
 * whether an object gives one key twice.
 */
import { parse, type AnyNode } from '@humanwhocodes/momoa';

/** No request of ours nests deeper than 3; anything past this is an attack on the parsers. */
export const MAX_DEPTH = 32;

/** Whether arrays and objects nest deeper than `max` (brackets inside strings do not count). */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

/**
 * JSON.parse keeps the last of two equal keys silently, while another parser
 * in front of us (a proxy, a WAF, a logging tap) may keep the first: the same
 * bytes would then mean two requests. momoa parses to a syntax tree, which
 * keeps every member; it costs a request more than the rest of the parsing,
 * so it runs only when the text holds more keys than JSON.parse kept.
 */

/** The first duplicated key, as a path like "features" or "a.b", or undefined. */
export function duplicateKey(text: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined; // not JSON: the JSON parser that follows says why
  }
  if (keysIn(parsed) === keysInText(text)) return undefined;
  let root: AnyNode;
  try {
    root = parse(text).body;
  } catch {
    return undefined; // not JSON: the JSON parser that follows says why
  }
  return walk(root, '');
}

function walk(node: AnyNode, path: string): string | undefined {
  if (node.type === 'Object') {
    const seen = new Set<string>();
    for (const member of node.members) {
      const key = member.name.type === 'String' ? member.name.value : member.name.name;
      const at = path ? `${path}.${key}` : key;
      if (seen.has(key)) return at;
      seen.add(key);
      const inner = walk(member.value, at);
      if (inner) return inner;
    }
  } else if (node.type === 'Array') {
    for (const [i, element] of node.elements.entries()) {
      const inner = walk(element.value, `${path}[${i}]`);
      if (inner) return inner;
    }
  }
  return undefined;
}

/** Object members in a parsed value, nested ones included. */
function keysIn(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  let n = 0;
  if (Array.isArray(value)) {
    for (const element of value) n += keysIn(element);
    return n;
  }
  for (const key in value) n += 1 + keysIn((value as Record<string, unknown>)[key]);
  return n;
}

/** Object members written in valid JSON text: the strings followed by a colon. */
function keysInText(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) !== 0x22) continue;
    for (i++; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x5c) i++;
      else if (c === 0x22) break;
    }
    let j = i + 1;
    while (j < text.length && (text.charCodeAt(j) === 0x20 || text.charCodeAt(j) === 0x0a || text.charCodeAt(j) === 0x0d || text.charCodeAt(j) === 0x09)) j++;
    if (text.charCodeAt(j) === 0x3a) n++;
  }
  return n;
}
