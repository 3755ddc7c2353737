/**
 * docs/functions.md's parameter tables are generated (npm run docs) from the
 * handlers' `parameters` and shared/parameter-docs.ts: every declared
 * parameter has an entry, no entry is left for a parameter no longer taken,
 * and the file holds exactly what the generator writes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { COMMON_PARAMETER_DOCS, FUNCTION_PARAMETER_DOCS } from '../../shared/parameter-docs';
import {
  FUNCTIONS_DOC,
  declaredParameters,
  parameterTable,
  undocumentedParameters,
  withParameterTables,
} from '../../scripts/docs';

const declared = declaredParameters();
const functionsDoc = fs.readFileSync(path.resolve(__dirname, '../..', FUNCTIONS_DOC), 'utf8');

test.each([...declared])('every parameter %s declares has an entry', (fn, parameters) => {
  expect(undocumentedParameters(fn, parameters)).toEqual([]);
});

test('every entry belongs to a declared parameter', () => {
  const stale = Object.entries(FUNCTION_PARAMETER_DOCS).flatMap(([fn, own]) =>
    Object.keys(own)
      .filter((parameter) => !declared.get(fn)?.includes(parameter))
      .map((parameter) => `${fn}: ${parameter}`),
  );
  const used = new Set([...declared.values()].flat());
  stale.push(...Object.keys(COMMON_PARAMETER_DOCS).filter((parameter) => !used.has(parameter)));
  expect(stale).toEqual([]);
});

test(`${FUNCTIONS_DOC} holds the tables npm run docs writes`, () => {
  expect(withParameterTables(functionsDoc, declared)).toBe(functionsDoc);
});

describe('the generator', () => {
  const marked = (fn: string, table: string) => `## ${fn}\n\n<!-- parameters: ${fn} -->\n${table}\n<!-- /parameters -->\n\nText.\n`;

  test("rewrites a stale table in the handler's order, neighbours documented alike sharing a row", () => {
    const stale = marked('create-image', '| parameter | default | meaning |\n| --- | --- | --- |\n| `pool`, `name` | required | |');
    const rewritten = withParameterTables(stale, new Map([['create-image', ['name', 'stripeUnit', 'stripeCount', 'pool']]]));
    expect(rewritten).toBe(
      marked(
        'create-image',
        [
          '',
          '| parameter | default | meaning |',
          '| --- | --- | --- |',
          '| `name` | required | |',
          '| `stripeUnit`, `stripeCount` | no striping | both or neither; the stripe unit is a power of two dividing the object size. librbd then adds the `striping` feature |',
          '| `pool` | required | |',
          '',
        ].join('\n'),
      ),
    );
  });

  test('takes a function\'s own entry over the common one', () => {
    expect(parameterTable('list-trash', ['namespace'])).toContain('| `namespace` | `""` | |');
    expect(parameterTable('clone-image', ['namespace'])).toContain("| `namespace` | `\"\"` | the parent's namespace |");
  });

  test('refuses a parameter with no entry, a marker naming no function, and a function without a table', () => {
    expect(() => parameterTable('list-pools', ['all', 'verbose'])).toThrow('list-pools declares verbose with no entry');
    expect(() => withParameterTables(marked('list-pool', ''), new Map([['list-pools', ['all']]]))).toThrow('names no function');
    expect(() => withParameterTables('no tables', new Map([['list-pools', ['all']]]))).toThrow('No <!-- parameters: ... --> table for list-pools');
  });
});
