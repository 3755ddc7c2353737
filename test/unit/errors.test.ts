import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { CephError, ERROR_CODES, ParameterError, invalidParameterError } from '../../shared/errors';
import { statusOf } from '../../shared/runtime/status';

/** The document whose "Error codes" table lists every code. */
const ERROR_CODES_DOC = path.resolve(__dirname, '../../docs/errors.md');
/** The document whose "Errors over HTTP" table gives each status's reason and codes: the same one unless they part. */
const HTTP_ERRORS_DOC = ERROR_CODES_DOC;

const documented = new Set([...section(fs.readFileSync(ERROR_CODES_DOC, 'utf8'), 'Error codes').matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]));

/** The text under a heading (at any level), up to the next heading of that level or above. */
function section(doc: string, title: string): string {
  const heading = new RegExp(`^(#+) ${title}\\s*$`, 'm').exec(doc);
  if (!heading) return '';
  const after = doc.slice(heading.index + heading[0].length);
  const next = after.search(new RegExp(`^#{1,${heading[1]!.length}} `, 'm'));
  return next === -1 ? after : after.slice(0, next);
}

test('the documentation has an "Error codes" table', () => {
  expect(documented.size).toBeGreaterThan(0);
});

test.each(Object.keys(ERROR_CODES))('%s is documented', (code) => {
  expect(documented).toContain(code);
});

test('the documentation lists no code that does not exist', () => {
  expect([...documented].filter((code) => !(code! in ERROR_CODES))).toEqual([]);
});

test.each(Object.entries(ERROR_CODES))('%s is answered with its catalogued status and reason', (code, { status, reason }) => {
  expect(http.STATUS_CODES[status]).toBeDefined();
  expect(status).toBeGreaterThanOrEqual(400);
  expect(reason).toMatch(/^[A-Z][A-Za-z]+$/);
  expect(statusOf(new CephError(code, 'm'))).toMatchObject({ code: status, reason, message: 'm', details: { cephCode: code } });
});

test('the HTTP table gives each code the status and reason it is answered with', () => {
  // | 409 | `InUse` | when | `EBUSY`, `EMLINK`, `ECHILD` |  (a 500 lists none: "any code not listed here")
  const rows = [...section(fs.readFileSync(HTTP_ERRORS_DOC, 'utf8'), 'Errors over HTTP').matchAll(/^\| (\d{3}) \| `(\w+)` \|.*\|(.*)\|\s*$/gm)];
  const answers = rows.flatMap(([, status, reason, codes]) => [...codes!.matchAll(/`([A-Z_]+)`/g)].map(([, code]) => [code!, { status: Number(status), reason }] as const));
  const catalogue = Object.entries(ERROR_CODES)
    .filter(([, { status }]) => status !== 500)
    .map(([code, { status, reason }]) => [code, { status, reason }] as const);
  expect(rows.length).toBeGreaterThan(0);
  expect(Object.fromEntries(answers)).toEqual(Object.fromEntries(catalogue));
  expect(answers).toHaveLength(catalogue.length); // each code in one row only
});

test('an errno name outside the catalogue is a 500', () => {
  expect(statusOf(new CephError('EXDEV', 'm'))).toMatchObject({ code: 500, reason: 'InternalError', details: { cephCode: 'EXDEV' } });
});

test('CephError requires a code and keeps its scope', () => {
  const err = new CephError('EBUSY', 'busy', { errno: -16, op: 'rbd_remove', pool: 'rbd', namespace: '', image: 'x' });
  expect(err).toBeInstanceOf(Error);
  expect(err).toMatchObject({ name: 'CephError', code: 'EBUSY', errno: -16, op: 'rbd_remove', pool: 'rbd', image: 'x' });
});

test('invalidParameterError is a ParameterError that says what was expected and what came', () => {
  const err = invalidParameterError('size', 'a positive number', { a: 1 });
  expect(err).toBeInstanceOf(ParameterError);
  expect(err).not.toBeInstanceOf(CephError);
  expect(err).toMatchObject({ name: 'ParameterError', code: 'ERR_INVALID_PARAMETER', parameter: 'size' });
  expect(err.message).toBe('Expected a positive number for size but received an object');
  expect(invalidParameterError('n', 'x', 'y'.repeat(100)).message).toContain('…');
});

test('a ParameterError is answered 400 naming the parameter, as a CephError of that code was', () => {
  expect(statusOf(invalidParameterError('size', 'a positive number', -1))).toEqual({
    kind: 'Status',
    apiVersion: 'v1',
    status: 'Failure',
    code: 400,
    reason: 'BadRequest',
    message: 'Expected a positive number for size but received -1 of type number',
    details: { cephCode: 'ERR_INVALID_PARAMETER', parameter: 'size' },
  });
});
