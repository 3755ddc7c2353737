/**
 * The HTTP floor for the gateway benchmark: a bare node:http server (no
 * express, no middleware, no Ceph) that answers every request with the body
 * in BENCH_FLOOR_BODY, the gateway's own list-pools answer. Timing a request
 * to it gives the cost of one keep-alive HTTP round trip on loopback, client
 * and server side, for a body of that size.
 *
 *   BENCH_FLOOR_BODY='{...}' node dist/bench/gateway/http-floor.js
 *
 * Listens on a free loopback port and prints "port=N"; exits when its stdin
 * closes, so it never outlives the driver that spawned it.
 */
import http from 'node:http';

const body = Buffer.from(process.env.BENCH_FLOOR_BODY ?? '{}');
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`port=${(server.address() as { port: number }).port}\n`);
});
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
