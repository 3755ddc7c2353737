/**
 * Writes the parameter tables of docs/functions.md from each handler's
 * `parameters` (names, in its order) and shared/parameter-docs.ts (default and
 * meaning), between `<!-- parameters: <function> -->` and `<!-- /parameters -->`.
 *
 *   npm run docs
 *
 * test/unit/parameter-docs.test.ts fails when the file differs from what this writes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parameterDoc } from '../shared/parameter-docs';
import { loadFunctions } from '../shared/runtime/functions';

export const FUNCTIONS_DOC = 'docs/functions.md';

const MARKED_TABLE = /(<!-- parameters: ([\w-]+) -->)[\s\S]*?(<!-- \/parameters -->)/g;

/** Each function's declared parameters, from its handler. */
export function declaredParameters(): Map<string, readonly string[]> {
  return new Map([...loadFunctions()].map(([name, mod]) => [name, mod.parameters]));
}

/** The declared parameters of `fn` with no entry in shared/parameter-docs.ts. */
export function undocumentedParameters(fn: string, parameters: readonly string[]): string[] {
  return parameters.filter((parameter) => parameterDoc(fn, parameter) === undefined);
}

/** The Markdown table of `fn`'s parameters, in the order given. */
export function parameterTable(fn: string, parameters: readonly string[]): string {
  const undocumented = undocumentedParameters(fn, parameters);
  if (undocumented.length > 0) {
    throw new Error(`${fn} declares ${undocumented.join(', ')} with no entry in shared/parameter-docs.ts`);
  }
  const rows: { names: string[]; default: string; meaning: string }[] = [];
  for (const parameter of parameters) {
    const doc = parameterDoc(fn, parameter)!;
    const last = rows.at(-1);
    // Neighbours documented alike share a row: `stripeUnit`, `stripeCount` | no striping | both or neither ...
    if (last && last.default === doc.default && last.meaning === doc.meaning) last.names.push(parameter);
    else rows.push({ names: [parameter], ...doc });
  }
  return [
    '| parameter | default | meaning |',
    '| --- | --- | --- |',
    ...rows.map((row) => {
      const cells = [row.names.map((name) => `\`${name}\``).join(', '), row.default, row.meaning];
      return `|${cells.map((cell) => (cell ? ` ${cell} ` : ' ')).join('|')}|`;
    }),
  ].join('\n');
}

/** `markdown` with every marked table rewritten; every function must have exactly one. */
export function withParameterTables(markdown: string, parametersOf: ReadonlyMap<string, readonly string[]>): string {
  const written = new Set<string>();
  const result = markdown.replace(MARKED_TABLE, (_whole, open: string, fn: string, close: string) => {
    const parameters = parametersOf.get(fn);
    if (!parameters) throw new Error(`${open} names no function; there are ${[...parametersOf.keys()].join(', ')}`);
    if (written.has(fn)) throw new Error(`${open} appears twice`);
    written.add(fn);
    // Blank lines around the table, so that Markdown reads the markers as HTML comments and the table as a table.
    return `${open}\n\n${parameterTable(fn, parameters)}\n\n${close}`;
  });
  const missing = [...parametersOf.keys()].filter((fn) => !written.has(fn));
  if (missing.length > 0) throw new Error(`No <!-- parameters: ... --> table for ${missing.join(', ')}`);
  return result;
}

if (require.main === module) {
  // Runs compiled, from dist/scripts/.
  const file = path.resolve(__dirname, '../..', FUNCTIONS_DOC);
  const before = fs.readFileSync(file, 'utf8');
  const after = withParameterTables(before, declaredParameters());
  if (after === before) {
    console.log(`${FUNCTIONS_DOC} is up to date`);
  } else {
    fs.writeFileSync(file, after);
    console.log(`${FUNCTIONS_DOC} rewritten`);
  }
}
