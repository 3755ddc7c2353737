/**
 * The OpenAPI 3.1 document of the functions, generated with zod-to-openapi
 * from the schemas the answers' types come from (schemas.ts), the parameters
 * each handler declares with their docs (shared/parameter-docs.ts) and
 * schemas (parameters.ts), and what each function answers (answers.ts).
 *
 * The gateway's document has every function at /function/<name> (and
 * /async-function/<name>); one function's own has it at /. Loaded on the
 * first request for it: the generator stays out of a cold start.
 */
import { OpenAPIRegistry, OpenApiGeneratorV31, extendZodWithOpenApi, type ResponseConfig, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { ERROR_CODES, type Reason } from '../errors';
import { parameterDoc } from '../parameter-docs';
import type { FunctionModule } from '../runtime/context';
import { COMMON_FAILURES, FUNCTION_ANSWERS, RUNTIME_REASONS, type FunctionAnswers, type SuccessAnswer } from './answers';
import { PARAMETER_SCHEMAS } from './parameters';
import * as schemas from './schemas';

extendZodWithOpenApi(z);

/** What the document needs of a function: its handler's declarations. */
export type DocumentedModule = Pick<FunctionModule, 'methods' | 'parameters'>;

/** Where the functions are served: all behind the gateway, or one on its own at /. */
export type Mount = 'gateway' | 'function';

/** The components, by the name the document gives them. */
const COMPONENTS: Record<string, z.ZodTypeAny> = {
  Image: schemas.imageSchema,
  ImageDetail: schemas.imageDetailSchema,
  ImageWithUsage: schemas.imageUsageSchema,
  ImageCloned: schemas.imageClonedSchema,
  ImageList: schemas.imageListSchema,
  PoolList: schemas.poolListSchema,
  Snapshot: schemas.snapshotSchema,
  SnapshotList: schemas.snapshotListSchema,
  TrashList: schemas.trashListSchema,
  TrashPurge: schemas.trashPurgeSchema,
  Status: schemas.statusSchema,
};

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad request: a parameter or the body refused',
  401: 'Missing or wrong bearer token (RBD_API_TOKEN)',
  403: "Forbidden: the Ceph user's caps, a read-only or full-quota pool, or a pool outside RBD_POOLS",
  404: 'Not found: the pool, namespace, image or snapshot',
  405: 'Method not allowed (see the Allow header)',
  408: 'The request took too long to arrive',
  409: 'Conflict: the reason says which',
  413: 'Body too large',
  415: 'Not a JSON body, or an unsupported charset or encoding',
  429: 'At the concurrency limit (max_inflight) or the async queue is full',
  431: 'Request headers too large',
  500: 'Internal error: the function log has the details (search by X-Call-Id)',
  503: 'Not connected to Ceph, the cluster full, or draining',
  504: 'Ceph did not answer in time, or the function ran past exec_timeout (the operation may still complete)',
};

/** Each status's reasons: the catalogue's and the runtime's. */
function reasonsOf(code: number, own: readonly Reason[] = []): Reason[] {
  const catalogue = Object.values(ERROR_CODES)
    .filter((entry) => entry.status === code)
    .map((entry) => entry.reason);
  // 409's reasons are each function's own: a list does not conflict.
  return [...new Set([...(code === 409 ? [] : [...catalogue, ...(RUNTIME_REASONS[code] ?? [])]), ...own])].sort();
}

/** The functions' document, for the given handlers, as served at `mount`. */
export function openApiDocument(functions: ReadonlyMap<string, DocumentedModule>, mount: Mount): ReturnType<OpenApiGeneratorV31['generateDocument']> {
  const registry = new OpenAPIRegistry();
  const components = new Map(Object.entries(COMPONENTS).map(([name, schema]) => [schema, registry.register(name, schema)]));
  const registered = (schema: z.ZodTypeAny) => components.get(schema) ?? schema;
  registry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'Only when RBD_API_TOKEN is set; otherwise no token is needed.',
  });

  const failures = new Map<string, ResponseConfig>();
  const failure = (code: number, reasons: Reason[]): ResponseConfig => {
    const key = `${code}:${reasons.join(',')}`;
    const cached = failures.get(key);
    if (cached) return cached;
    // A component each, named by status (and by reasons for 409s, which differ by function).
    const schema = registry.register(
      `Failure${code}${code === 409 ? reasons.join('') : ''}`,
      schemas.statusSchema
        .extend({ status: z.literal('Failure'), code: z.literal(code), reason: z.enum(reasons as [Reason, ...Reason[]]), message: z.string() })
        .strict(),
    );
    const example = { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason: reasons[0], message: STATUS_TEXT[code] ?? reasons[0] };
    const headers: ResponseConfig['headers'] =
      code === 405
        ? { Allow: { description: 'The methods taken here', schema: { type: 'string' } } }
        : code === 401
          ? { 'WWW-Authenticate': { description: '"Bearer"', schema: { type: 'string' } } }
          : undefined;
    const response: ResponseConfig = {
      description: STATUS_TEXT[code] ?? reasons.join(', '),
      ...(headers && { headers }),
      content: { 'application/json': { schema, example } },
    };
    failures.set(key, response);
    return response;
  };

  for (const [name, mod] of functions) {
    const answers = answersOf(name);
    const path = mount === 'gateway' ? `/function/${name}` : '/';
    const methods = [...new Set([...mod.methods, 'POST'])];
    const responses = operationResponses(answers, registered, failure);
    for (const method of methods) {
      const natural = mod.methods.includes(method);
      registry.registerPath({
        method: method.toLowerCase() as RouteConfig['method'],
        path,
        operationId: `${camel(name)}${natural ? '' : 'Post'}`,
        summary: answers.summary,
        description: describeOperation(name, natural),
        tags: [name],
        security: [{}, { bearer: [] }],
        request: method === 'POST' ? { body: requestBody(name, mod.parameters) } : { query: parameterObject(name, mod.parameters) },
        responses,
      });
    }
    if (mount === 'gateway') {
      registry.registerPath({
        method: 'post',
        path: `/async-function/${name}`,
        operationId: `${camel(name)}Async`,
        summary: `${answers.summary}, asynchronously`,
        description:
          'Queued and answered at once with 202 and an X-Call-Id; the answer the synchronous call would give is POSTed to ' +
          'X-Callback-Url (with X-Call-Id, X-Function-Status, X-Function-Name, X-Duration-Seconds) when it is done.' +
          (answers.long ? ' This function takes time in proportion to the data it moves: call it this way.' : ''),
        tags: [name],
        security: [{}, { bearer: [] }],
        request: {
          body: requestBody(name, mod.parameters),
          headers: z.object({ 'X-Callback-Url': z.string().url().optional().describe('where the answer is POSTed') }),
        },
        responses: {
          202: { description: 'Queued', headers: { 'X-Call-Id': { description: 'The call id the callback carries', schema: { type: 'string' } } } },
          ...Object.fromEntries([400, 401, 405, 413, 415, 429, 503].map((code) => [code, failure(code, reasonsOf(code))])),
        },
      });
    }
  }

  const single = mount === 'function' ? [...functions.keys()][0] : undefined;
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: single ? `rbd-functions: ${single}` : 'rbd-functions',
      version: 'v1',
      description:
        'Ceph RBD image management as serverless functions. Query parameters and JSON body fields are equivalent; ' +
        'every failure is a Status object (docs/errors.md). Every answer carries an X-Call-Id header.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
  });
}

function answersOf(name: string): FunctionAnswers {
  const answers = Object.hasOwn(FUNCTION_ANSWERS, name) ? FUNCTION_ANSWERS[name] : undefined;
  if (!answers) throw new Error(`${name} has no entry in shared/api/answers.ts`);
  return answers;
}

function operationResponses(
  answers: FunctionAnswers,
  registered: (schema: z.ZodTypeAny) => z.ZodTypeAny,
  failure: (code: number, reasons: Reason[]) => ResponseConfig,
): Record<number, ResponseConfig> {
  const responses: Record<number, ResponseConfig> = {};
  for (const [code, answer] of Object.entries(answers.success) as [string, SuccessAnswer][]) {
    const schema =
      'successReasons' in answer.schema
        ? schemas.statusSchema
            .extend({
              status: z.literal('Success'),
              code: z.literal(200),
              reason: z.enum(answer.schema.successReasons as [string, ...string[]]),
              details: z.record(z.unknown()),
            })
            .strict()
            .describe('A Success Status')
        : registered(answer.schema);
    responses[Number(code)] = { description: answer.description, content: { 'application/json': { schema, example: answer.example } } };
  }
  const codes = new Set<number>([...COMMON_FAILURES, ...Object.keys(answers.failures).map(Number)]);
  for (const code of [...codes].sort((a, b) => a - b)) responses[code] = failure(code, reasonsOf(code, answers.failures[code]));
  return responses;
}

function describeOperation(name: string, natural: boolean): string {
  const how = natural ? 'Parameters in the query string (or, equally, as a JSON body with POST).' : 'Parameters as a JSON body (or, equally, in the query string).';
  return `${how} See docs/functions.md#${name}.`;
}

/** Each parameter with its schema, its meaning and default as docs/functions.md gives them. */
function parameterShape(fn: string, parameters: readonly string[]): z.ZodRawShape {
  return Object.fromEntries(
    parameters.map((parameter) => {
      const schema = Object.hasOwn(PARAMETER_SCHEMAS, parameter) ? PARAMETER_SCHEMAS[parameter] : undefined;
      const doc = parameterDoc(fn, parameter);
      if (!schema || !doc) throw new Error(`${fn}'s parameter ${parameter} needs an entry in shared/api/parameters.ts and shared/parameter-docs.ts`);
      const required = doc.default === 'required';
      const text = [doc.meaning, schema.description, required ? '' : `Default: ${doc.default}.`].filter(Boolean).join('. ').replace(/\.\./g, '.');
      const described = schema.describe(text || parameter);
      return [parameter, required ? described : described.optional()];
    }),
  );
}

function parameterObject(fn: string, parameters: readonly string[]): z.AnyZodObject {
  return z.object(parameterShape(fn, parameters));
}

function requestBody(fn: string, parameters: readonly string[]): NonNullable<NonNullable<RouteConfig['request']>['body']> {
  const schema = z.object(parameterShape(fn, parameters)).strict();
  const required = parameters.some((parameter) => parameterDoc(fn, parameter)?.default === 'required');
  return { required, content: { 'application/json': { schema } } };
}

function camel(name: string): string {
  return name.replace(/-(\w)/g, (_m, c: string) => c.toUpperCase());
}
