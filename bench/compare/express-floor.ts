/**
 * The HTTP floor for list-pools: a bare express handler answering constant
 * JSON of the same shape, on PORT. What a function could at best do per request.
 */
import express from 'express';

const body = { kind: 'PoolList', apiVersion: 'v1', items: [{ name: 'rbd', id: 1, applications: ['rbd'] }] };
const app = express();
app.get('/', (_req, res) => {
  res.json(body);
});
const server = app.listen(Number(process.env.PORT ?? 8080), '127.0.0.1');
process.once('SIGTERM', () => server.close(() => process.exit(0)));
