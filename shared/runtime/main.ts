/**
 * One function, standalone, exactly as in its container:
 *   npm run function -- <name>      (or RBD_FUNCTION=<name>)
 * It serves its handler at / and at every other path but the runtime's own
 * (and its OpenAPI document at /_/openapi.json), since gateways forward
 * /function/<name>/<rest> as /<rest>.
 */
// Blocking Ceph calls each hold a libuv worker; 4 (the default) is too few.
process.env.UV_THREADPOOL_SIZE ??= '16';

import { boot } from './boot';
import { OPENAPI_PATH, openApiAnswer } from './contract';
import { loadFunction } from './functions';

const name = process.argv[2] ?? process.env.RBD_FUNCTION;
if (!name) {
  process.stderr.write('usage: npm run function -- <name>   (or set RBD_FUNCTION)\n');
  process.exit(2);
}
const mod = loadFunction(name);

boot({
  name,
  mount: (app, runtime) => {
    runtime.serveContract(OPENAPI_PATH, openApiAnswer(new Map([[name, mod]]), 'function'));
    app.all('/{*rest}', ...runtime.functionRoute(name, mod, { path: (req) => req.path }));
  },
}).catch((err: unknown) => {
  process.stderr.write(`${name}: ${(err as Error).message}\n`);
  process.exit(1);
});
