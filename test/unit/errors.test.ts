import fs from 'node:fs';
import path from 'node:path';
import { CephError, ERROR_CODES, invalidParameterError } from '../../shared/errors';

const readme = fs.readFileSync(path.resolve(__dirname, '../../docs/errors.md'), 'utf8');
// The catalogue is the table under "## Error codes" in docs/errors.md, up to the next heading.
const section = readme.split(/^## /m).find((s) => s.startsWith('Error codes')) ?? '';
const documented = new Set([...section.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]));

test.each(Object.keys(ERROR_CODES))('%s is documented in the README', (code) => {
  expect(documented).toContain(code);
});

test('the README documents no code that does not exist', () => {
  expect([...documented].filter((code) => !(code! in ERROR_CODES))).toEqual([]);
});

test('CephError requires a code and keeps its scope', () => {
  const err = new CephError('EBUSY', 'busy', { errno: -16, op: 'rbd_remove', pool: 'rbd', namespace: '', image: 'x' });
  expect(err).toBeInstanceOf(Error);
  expect(err).toMatchObject({ name: 'CephError', code: 'EBUSY', errno: -16, op: 'rbd_remove', pool: 'rbd', image: 'x' });
});

test('invalidParameterError says what was expected and what came', () => {
  const err = invalidParameterError('size', 'a positive number', { a: 1 });
  expect(err.code).toBe('ERR_INVALID_PARAMETER');
  expect(err.message).toBe('Expected a positive number for size but received an object');
  expect(invalidParameterError('n', 'x', 'y'.repeat(100)).message).toContain('…');
});
