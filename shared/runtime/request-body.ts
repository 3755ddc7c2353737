/**
 * A request's JSON body into req.body, with the guards a body passes first:
 * its content type, its size, how deep it nests and whether it gives a key
 * twice. Body-parser's refusals become Status answers that say what to send.
 */
import express, { type Request, type Response } from 'express';
import { isCloudEventRequest } from './events';
import { MAX_DEPTH, duplicateKey, nestsDeeperThan } from './json-body';
import { isPlainObject } from './plain-object';
import { HttpError } from './status';

const JSON_TYPES = ['application/json', 'application/*+json'];
/**
 * What `faas-cli invoke` (text/plain) and `curl -d` (form) send unless told
 * otherwise. Read as JSON when the body is a JSON object, so that the first
 * command an OpenFaaS user types works; no form or text decoding happens.
 */
const CLI_DEFAULT_TYPES = ['text/plain', 'application/x-www-form-urlencoded'];

/**
 * A browser may send text/plain or a form to another origin without asking
 * first (CORS "simple" requests), so taking them from a browser would let
 * any web page change images on a gateway without a token; application/json
 * needs a preflight, which fails with CORS off. Browsers send Origin with
 * every POST (and Sec-Fetch-Site where they send Sec-Fetch-*), command-line
 * clients neither (Node's fetch sends Sec-Fetch-Mode, so that says nothing).
 */
function fromBrowser(req: Request): boolean {
  return req.headers.origin !== undefined || req.headers['sec-fetch-site'] !== undefined;
}

export type BodyReader = (req: Request, res: Response, done: (err?: unknown) => void) => void;

/**
 * Reads a JSON body (or none) into req.body. A text/plain or form body must
 * be a JSON object (400 otherwise), and comes from neither a browser nor a
 * CloudEvent; another content type is 415.
 */
export function bodyReader(maxBodyBytes: number): BodyReader {
  const verify = (_req: unknown, _res: unknown, buf: Buffer) => {
    const text = buf.toString('utf8');
    const refuse = (message: string) => Object.assign(new Error(message), { type: 'entity.refused' });
    if (nestsDeeperThan(text, MAX_DEPTH)) throw refuse(`it nests arrays and objects deeper than ${MAX_DEPTH} levels.`);
    const key = duplicateKey(text);
    if (key !== undefined) throw refuse(`"${key}" is given twice; give each field once.`);
  };
  const parseJson = express.json({ limit: maxBodyBytes, type: JSON_TYPES, verify });
  const parseCliDefault = express.json({ limit: maxBodyBytes, type: CLI_DEFAULT_TYPES, verify });
  return (req, res, done) => {
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    // A CloudEvent's data is typed by its content type: only JSON is taken there.
    if (hasBody && req.is(CLI_DEFAULT_TYPES) && !isCloudEventRequest(req.headers) && !fromBrowser(req)) {
      return parseCliDefault(req, res, (err?: unknown) => {
        const parseFailed = (err as { type?: string } | undefined)?.type === 'entity.parse.failed';
        if (err && !parseFailed) return done(err);
        if (parseFailed || !isPlainObject(req.body)) return done(notAJsonObject(req));
        done();
      });
    }
    if (hasBody && !req.is(JSON_TYPES)) {
      return done(new HttpError(415, 'UnsupportedMediaType', `Send the body as application/json (got ${req.get('Content-Type') ?? 'no Content-Type'}).`));
    }
    parseJson(req, res, done);
  };
}

function notAJsonObject(req: Request): HttpError {
  const type = req.get('Content-Type') ?? '';
  return new HttpError(
    400,
    'BadRequest',
    `The body (sent as ${type}) is not a JSON object; send a JSON object, e.g. {"pool":"rbd"}, with Content-Type: application/json.`,
    { contentType: type },
  );
}

/** Body-parser's refusal as the answer to send, or the error unchanged when it is not one. */
export function bodyRefusal(err: unknown, maxBodyBytes: number): unknown {
  switch ((err as { type?: string }).type) {
    case 'entity.too.large':
      return new HttpError(413, 'PayloadTooLarge', `The body exceeds ${maxBodyBytes} bytes.`);
    case 'entity.parse.failed':
      return new HttpError(400, 'BadRequest', `The body is not valid JSON: ${(err as Error).message}`);
    case 'entity.refused':
      return new HttpError(400, 'BadRequest', `The body is refused: ${(err as Error).message}`);
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return new HttpError(415, 'UnsupportedMediaType', (err as Error).message);
    default:
      return err;
  }
}
