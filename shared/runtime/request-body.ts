/**
 * A request's JSON body into req.body, with the guards a body passes first:
 * its content type, its size, how deep it nests and whether it gives a key
 * twice. Body-parser's refusals become Status answers that say what to send.
 */
import express, { type Request, type Response } from 'express';
import { MAX_DEPTH, duplicateKey, nestsDeeperThan } from './json-body';
import { HttpError } from './status';

const JSON_TYPES = ['application/json', 'application/*+json'];

export type BodyReader = (req: Request, res: Response, done: (err?: unknown) => void) => void;

/** Reads a JSON body (or none) into req.body; another content type is 415. */
export function bodyReader(maxBodyBytes: number): BodyReader {
  const parseJson = express.json({
    limit: maxBodyBytes,
    type: JSON_TYPES,
    verify: (_req, _res, buf) => {
      const text = buf.toString('utf8');
      const refuse = (message: string) => Object.assign(new Error(message), { type: 'entity.refused' });
      if (nestsDeeperThan(text, MAX_DEPTH)) throw refuse(`it nests arrays and objects deeper than ${MAX_DEPTH} levels.`);
      const key = duplicateKey(text);
      if (key !== undefined) throw refuse(`"${key}" is given twice; give each field once.`);
    },
  });
  return (req, res, done) => {
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    if (hasBody && !req.is(JSON_TYPES)) {
      return done(new HttpError(415, 'UnsupportedMediaType', `Send the body as application/json (got ${req.get('Content-Type') ?? 'no Content-Type'}).`));
    }
    parseJson(req, res, done);
  };
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
