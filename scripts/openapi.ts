/**
 * Writes the OpenAPI 3.1 document, for API gateways and code generators:
 * the gateway's (every function at /function/<name>), or with --function
 * one function's own (at /, as its container serves it).
 *
 *   npm run openapi [-- --out FILE] [-- --function NAME]     (default dist/openapi.json)
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openApiDocument } from '../shared/api/openapi';
import { loadFunction, loadFunctions } from '../shared/runtime/functions';

const { values } = parseArgs({ options: { out: { type: 'string', default: 'dist/openapi.json' }, function: { type: 'string' } } });
const document = values.function
  ? openApiDocument(new Map([[values.function, loadFunction(values.function)]]), 'function')
  : openApiDocument(loadFunctions(), 'gateway');
fs.mkdirSync(path.dirname(path.resolve(values.out)), { recursive: true });
fs.writeFileSync(values.out, `${JSON.stringify(document, null, 2)}\n`);
process.stdout.write(`${values.out}: ${Object.keys(document.paths ?? {}).length} paths\n`);
