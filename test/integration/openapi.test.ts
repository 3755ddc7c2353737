/**
 * The OpenAPI document as the gateway and one function serve it, and the
 * check every call() makes against it (helpers/openapi-check.ts): a real
 * answer passes, and the same answer altered does not.
 */
import { openApiDocument } from '../../shared/api/openapi';
import { loadFunctions } from '../../shared/runtime/functions';
import { call, expectStatus, startGateway, type TestGateway } from '../helpers/gateway';
import { ResponseChecker } from '../helpers/openapi-check';
import { FUNCTION_BUNDLE, spawnRuntime, type RuntimeProcess } from '../helpers/process';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => {
  await gw.close();
});

test('the gateway serves the document at /openapi.json, every function at /function/<name>', async () => {
  const served = await call(`${gw.url}/openapi.json`);
  expect(served.status).toBe(200);
  expect(served.headers.get('content-type')).toMatch(/^application\/json/);
  expect(served.body).toEqual(JSON.parse(JSON.stringify(openApiDocument(loadFunctions(), 'gateway'))));
  expect(Object.keys(served.body.paths)).toEqual(expect.arrayContaining(['/function/create-image', '/async-function/create-image']));
  expectStatus((await call(`${gw.url}/openapi.json`, { method: 'POST', body: {} })).body, 405, 'MethodNotAllowed');
});

describe('one function on its own', () => {
  let fn: RuntimeProcess;
  beforeAll(async () => {
    fn = await spawnRuntime([FUNCTION_BUNDLE, 'list-snapshots'], { CEPH_CONF: process.env.CEPH_CONF });
  });
  afterAll(async () => {
    await fn.stop();
  });

  test('serves its own document at /_/openapi.json, with itself at /', async () => {
    // Listening a moment after it starts: retried until it answers.
    let served: Response | undefined;
    for (let attempt = 0; !served; attempt++) {
      served = await fetch(`${fn.url}/_/openapi.json`).catch(async (err: unknown) => {
        if (attempt > 100) throw err;
        await new Promise((resolve) => setTimeout(resolve, 100));
        return undefined;
      });
    }
    expect(served.status).toBe(200);
    const doc = (await served.json()) as any;
    expect(doc.info.title).toBe('rbd-functions: list-snapshots');
    expect(Object.keys(doc.paths)).toEqual(['/']);
    expect(Object.keys(doc.paths['/']).sort()).toEqual(['get', 'post']);
    expect(doc.paths['/'].get.parameters.map((p: { name: string }) => p.name)).toEqual(['pool', 'namespace', 'image']);
  });
});

describe('answers that disagree with the document fail the check', () => {
  const checker = new ResponseChecker(openApiDocument(loadFunctions(), 'gateway'));
  const path = '/function/create-image';

  test('a real 201 passes; altered, dropped, added fields and an undeclared status do not', async () => {
    const created = await call(`${gw.url}${path}`, { body: { pool: 'rbd', name: 'openapi-check', size: '1Mi' } });
    expect(created.status).toBe(201);
    expect(() => checker.check(path, 'post', 201, created.body)).not.toThrow();
    expect(() => checker.check(path, 'post', 201, { ...created.body, size: String(created.body.size) })).toThrow(/size must be integer/);
    const { createdAt: _createdAt, ...withoutTime } = created.body;
    expect(() => checker.check(path, 'post', 201, withoutTime)).toThrow(/must have required property 'createdAt'/);
    expect(() => checker.check(path, 'post', 201, { ...created.body, parent: null })).toThrow(/must NOT have additional properties/);
    expect(() => checker.check(path, 'post', 202, created.body)).toThrow(/declares no 202/);
    expect((await call(`${gw.url}/function/delete-image`, { method: 'DELETE', body: { pool: 'rbd', name: 'openapi-check' } })).status).toBe(200);
  });

  test('a real Status passes; a reason the document does not give that status does not', async () => {
    const missing = await call(`${gw.url}/function/get-image?pool=rbd&name=openapi-no-such-image`);
    expectStatus(missing.body, 404, 'NotFound');
    expect(() => checker.check('/function/get-image', 'get', 404, missing.body)).not.toThrow();
    expect(() => checker.check('/function/get-image', 'get', 404, { ...missing.body, reason: 'Gone' })).toThrow(/must be equal to one of the allowed values/);
    expect(() => checker.check('/function/get-image', 'get', 409, { ...missing.body, code: 409 })).toThrow(/declares no 409/);
  });
});
