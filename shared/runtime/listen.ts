/**
 * The HTTP server itself: keep-alive that outlives the proxies' in front,
 * and a Status answer to requests Node's parser refuses.
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type express from 'express';
import type { Reason } from '../errors';
import { failure } from './status';

export async function listen(app: express.Express, port: number, host = '0.0.0.0'): Promise<http.Server> {
  const server = await new Promise<http.Server>((resolve, reject) => {
    const s = app.listen(port, host, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  // Outlive the idle keep-alive of the proxies in front (Go's transport,
  // used by the OpenFaaS gateway and Knative's queue-proxy, keeps idle
  // connections 90 s). Node's 5 s default closes sockets they are about to
  // reuse, which they see as resets.
  server.keepAliveTimeout = 95_000;
  server.headersTimeout = 96_000;
  server.on('clientError', answerMalformed);
  return server;
}

/** Node's parser errors that are not a plain 400, by code. */
const MALFORMED: Record<string, [number, Reason, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'RequestHeaderFieldsTooLarge', 'The request headers are too large.'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'PayloadTooLarge', 'The chunk extensions are too large.'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'RequestTimeout', 'The request took too long to arrive.'],
};

/**
 * Requests Node's parser refuses (a CR or NUL in a header, a bad method or
 * chunk) get a Status body, not Node's bare 400, and the socket is closed:
 * Node leaves it half-open otherwise. If the socket is answering an earlier
 * request (its body complete, or its answer started), the bad bytes belong
 * to a later one: the socket is only closed, so no 400 lands in or instead
 * of that answer.
 */
function answerMalformed(err: NodeJS.ErrnoException, socket: Duplex): void {
  const answering = (socket as Duplex & { _httpMessage?: http.ServerResponse })._httpMessage;
  const earlier = answering && (answering.headersSent || answering.req.complete);
  if (err.code === 'ECONNRESET' || !socket.writable || earlier) return void socket.destroy();
  const [code, reason, message] = MALFORMED[err.code ?? ''] ?? [
    400,
    'BadRequest',
    `Malformed HTTP request (${err.code ?? 'parse error'}): check the request line and headers; CR, LF and NUL are not allowed in header values.`,
  ];
  const body = JSON.stringify(failure(code, reason, message));
  socket.end(
    `HTTP/1.1 ${code} ${http.STATUS_CODES[code]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    () => socket.destroy(),
  );
  setTimeout(() => socket.destroy(), 1000).unref(); // a peer that never reads
}
