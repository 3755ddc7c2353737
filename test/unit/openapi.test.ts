import { validate } from '@readme/openapi-parser';
import { COMMON_FAILURES, FUNCTION_ANSWERS } from '../../shared/api/answers';
import { openApiDocument } from '../../shared/api/openapi';
import { ERROR_CODES } from '../../shared/errors';
import { functionNames, loadFunction, loadFunctions } from '../../shared/runtime/functions';
import { ResponseChecker } from '../helpers/openapi-check';

const functions = loadFunctions();
const gateway = openApiDocument(functions, 'gateway');

type Operation = {
  parameters?: { name: string; in: string; required?: boolean }[];
  requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown>; required?: string[] } }> };
  responses: Record<string, { content?: Record<string, { example?: unknown }> }>;
};
const operation = (doc: typeof gateway, path: string, method: string) => (doc.paths?.[path] as Record<string, Operation> | undefined)?.[method];

test("the gateway's document is valid OpenAPI 3.1", async () => {
  expect(gateway.openapi).toBe('3.1.0');
  // The parser dereferences in place: it gets a copy.
  await expect(validate(structuredClone(gateway) as never)).resolves.toMatchObject({ valid: true });
});

test.each(functionNames())("%s's own document is valid OpenAPI 3.1, with the function at /", async (name) => {
  const own = openApiDocument(new Map([[name, loadFunction(name)]]), 'function');
  expect(Object.keys(own.paths ?? {})).toEqual(['/']);
  await expect(validate(structuredClone(own) as never)).resolves.toMatchObject({ valid: true });
});

test('every function appears, with each method it takes and each parameter it declares', () => {
  expect(Object.keys(FUNCTION_ANSWERS).sort()).toEqual(functionNames());
  for (const [name, mod] of functions) {
    for (const method of new Set([...mod.methods, 'POST'])) {
      const op = operation(gateway, `/function/${name}`, method.toLowerCase());
      expect(op).toBeDefined();
      const declared =
        method === 'POST' ? Object.keys(op!.requestBody!.content['application/json']!.schema.properties ?? {}) : (op!.parameters ?? []).map((p) => p.name);
      expect([name, method, declared]).toEqual([name, method, [...mod.parameters]]);
    }
    expect(operation(gateway, `/async-function/${name}`, 'post')).toBeDefined();
  }
});

test('required parameters are required: list-images needs a pool, list-pools needs nothing', () => {
  const listImages = operation(gateway, '/function/list-images', 'get')!;
  expect(listImages.parameters!.find((p) => p.name === 'pool')).toMatchObject({ in: 'query', required: true });
  expect(listImages.parameters!.find((p) => p.name === 'limit')).toMatchObject({ required: false });
  const create = operation(gateway, '/function/create-image', 'post')!;
  expect(create.requestBody!.content['application/json']!.schema.required).toEqual(['pool', 'name', 'size']);
});

test("every function answers each catalogue code's status", () => {
  for (const name of functionNames()) {
    const responses = Object.keys(operation(gateway, `/function/${name}`, 'post')!.responses).map(Number);
    expect(responses).toEqual(expect.arrayContaining([...COMMON_FAILURES]));
    const own = Object.keys(FUNCTION_ANSWERS[name]!.failures).map(Number);
    const catalogue = new Set(Object.values(ERROR_CODES).map((entry) => entry.status));
    for (const status of catalogue) if (status !== 404 && status !== 409) expect(responses).toContain(status);
    for (const status of own) expect(responses).toContain(status);
  }
});

test("every example matches its response's schema, and the schemas refuse what differs", () => {
  const checker = new ResponseChecker(gateway);
  let checked = 0;
  for (const [path, item] of Object.entries(gateway.paths ?? {})) {
    for (const [method, op] of Object.entries(item as Record<string, Operation>)) {
      for (const [status, response] of Object.entries(op.responses)) {
        const example = response.content?.['application/json']?.example;
        if (example === undefined) continue;
        checker.check(path, method, Number(status), example);
        checked++;
      }
    }
  }
  expect(checked).toBeGreaterThan(15 * 14);
  const pools = { kind: 'PoolList', apiVersion: 'v1', items: [{ name: 'rbd', id: 1, applications: ['rbd'] }] };
  expect(() => checker.check('/function/list-pools', 'get', 200, pools)).not.toThrow();
  expect(() => checker.check('/function/list-pools', 'get', 200, { ...pools, extra: true })).toThrow(/must NOT have additional properties/);
  expect(() => checker.check('/function/list-pools', 'get', 201, pools)).toThrow(/declares no 201/);
  expect(() => checker.check('/function/create-image', 'post', 409, { ...failure(409, 'WouldShrink') })).toThrow(/allowed values/);
  expect(() => checker.check('/function/resize-image', 'post', 409, failure(409, 'WouldShrink'))).not.toThrow();
});

function failure(code: number, reason: string) {
  return { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message: 'm' };
}
