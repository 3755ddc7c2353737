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
 * keeps every member.
 */

/** The first duplicated key, as a path like "features" or "a.b", or undefined. */
export function duplicateKey(text: string): string | undefined {
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
