/** The bearer token (RBD_API_TOKEN) a caller must send, when one is set. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import { registerSecret } from './secrets';
import { HttpError } from './status';

export class BearerToken {
  private readonly expected?: Buffer;

  /** missing: why no call may be served, as a token was expected and none arrived (RBD_AUTH=token). */
  constructor(
    token: string | undefined,
    private readonly missing?: string,
  ) {
    if (token) this.expected = digest(token);
    registerSecret(token);
  }

  /** The refusal for a caller without the token, or undefined; compared in constant time (digests hide the length too). */
  refuse(req: Request, res: Response): HttpError | undefined {
    if (this.missing) return new HttpError(503, 'ServiceUnavailable', this.missing);
    if (!this.expected) return undefined;
    const match = /^Bearer (.+)$/.exec(req.get('Authorization') ?? '');
    if (match && timingSafeEqual(digest(match[1]!), this.expected)) return undefined;
    res.setHeader('WWW-Authenticate', 'Bearer');
    return new HttpError(401, 'Unauthorized', 'Missing or wrong bearer token: send "Authorization: Bearer <token>" (RBD_API_TOKEN).');
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
