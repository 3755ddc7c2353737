/**
 * Checks the functions' answers against the OpenAPI document: each answer's
 * body against the response schema the document gives for its path, method
 * and status (ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses it). An answer
 * the document does not declare, or a body its schema refuses, throws: the
 * code and the document disagree. call() (gateway.ts) checks every answer it
 * gets from a function, so every integration test contributes; each check is
 * counted in OPENAPI_CHECK_LOG for the run's summary (summary-reporter.js).
 */
import fs from 'node:fs';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { ValidateFunction } from 'ajv';
import { openApiDocument } from '../../shared/api/openapi';
import { loadFunctions } from '../../shared/runtime/functions';

type Document = ReturnType<typeof openApiDocument>;

/** A document's response schemas, compiled on first use. */
export class ResponseChecker {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(readonly document: Document) {
    addFormats(this.ajv);
    // Response schemas are compiled by their place in the document, so their $refs resolve in it.
    this.ajv.addSchema(document as object, 'openapi.json');
  }

  /** Throws unless the document declares this answer and its body matches the schema. */
  check(path: string, method: string, status: number, body: unknown): void {
    const operations = this.document.paths?.[path] as Record<string, { responses?: Record<string, { content?: Record<string, unknown> }> }> | undefined;
    if (!operations) throw new Error(`The OpenAPI document has no path ${path}`);
    let operation = method.toLowerCase();
    // A method the function does not take has no operation: its refusal (405, or 401 before that) is one any operation declares.
    if (!operations[operation] && status >= 400) operation = Object.keys(operations).find((key) => operations[key]?.responses?.[String(status)]) ?? operation;
    const response = operations[operation]?.responses?.[String(status)];
    if (!response) throw new Error(`The OpenAPI document declares no ${status} for ${method} ${path}, which answered ${JSON.stringify(body)}`);
    if (!response.content) {
      if (body !== undefined) throw new Error(`The OpenAPI document declares no body for ${status} to ${method} ${path}, which answered ${JSON.stringify(body)}`);
      return;
    }
    const pointer = ['paths', path, operation, 'responses', String(status), 'content', 'application/json', 'schema']
      .map((part) => part.replace(/~/g, '~0').replace(/\//g, '~1'))
      .join('/');
    let validate = this.compiled.get(pointer);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `openapi.json#/${pointer}` });
      this.compiled.set(pointer, validate);
    }
    if (!validate(body)) {
      const errors = this.ajv.errorsText(validate.errors, { dataVar: 'body' });
      throw new Error(`${status} to ${method} ${path} disagrees with the OpenAPI document: ${errors}; the answer was ${JSON.stringify(body)}`);
    }
  }
}

let gateway: ResponseChecker | undefined;
const standalone = new Map<string, Promise<ResponseChecker | undefined>>();

// Paths of the gateway and of the runtime that are not a function's answer.
const NOT_A_FUNCTION = /^\/(_\/|health|metrics|api\/|async-function\/|openapi\.json|healthz)/;

/**
 * Checks one answer from `url`, if it is a function's: /function/<name>[/...]
 * against the gateway's document, built here from the same code; any other
 * path of a process serving /_/openapi.json (one function on its own)
 * against the document it serves. Others pass unchecked, uncounted.
 */
export async function checkAnswer(url: string, method: string, answer: { status: number; headers: Headers; body: unknown }): Promise<void> {
  // A binary-mode CloudEvent's body is its data, described by events.md, not this document.
  if (method === 'HEAD' || answer.headers.has('ce-specversion')) return;
  const { origin, pathname } = new URL(url);
  const served = /^\/function\/([^/]+)/.exec(pathname);
  let checker: ResponseChecker | undefined;
  let path: string;
  if (served) {
    gateway ??= new ResponseChecker(openApiDocument(loadFunctions(), 'gateway'));
    path = `/function/${served[1]}`;
    // /function/<unknown> is the gateway's own 404.
    if (!gateway.document.paths?.[path]) return;
    checker = gateway;
  } else if (pathname.startsWith('/async-function/')) {
    gateway ??= new ResponseChecker(openApiDocument(loadFunctions(), 'gateway'));
    path = pathname;
    if (!gateway.document.paths?.[path]) return;
    checker = gateway;
  } else {
    if (NOT_A_FUNCTION.test(pathname)) return;
    path = '/';
    if (!standalone.has(origin)) standalone.set(origin, servedDocument(origin));
    checker = await standalone.get(origin);
    if (!checker) return;
  }
  checker.check(path, method, answer.status, answer.body);
  const log = process.env.OPENAPI_CHECK_LOG;
  if (log) fs.appendFileSync(log, `${answer.status} ${method} ${path}\n`);
}

/** The document a standalone function serves; undefined when the process serves none (the gateway). */
async function servedDocument(origin: string): Promise<ResponseChecker | undefined> {
  const res = await fetch(`${origin}/_/openapi.json`);
  if (res.status !== 200) return undefined;
  return new ResponseChecker((await res.json()) as Document);
}
