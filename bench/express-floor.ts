/**
 * HTTP floors for list-pools, on PORT:
 *   (no argument)  a bare express handler answering constant JSON of the
 *                  same shape: what any express function could at best do;
 *   --ceph         a bare express handler over the addon, connected with
 *                  CEPH_CONF/CEPH_KEYRING, answering the monitors' pool list
 *                  with no runtime around it (no logging, metrics, validation,
 *                  config diagnosis or sharing): what a function process that
 *                  links librbd at least weighs and costs; and POST /create
 *                  {pool, name, size} making create-image's library calls
 *                  (create, then the read-back that describes the image);
 *                  GET /images?pool=P&limit=N list-images' page of names.
 * Either way, PUT /page stores a body and GET /page answers it as JSON: a
 * listing's page as constant bytes, what sending it costs by itself.
 */
import express from 'express';
import { loadAddon, type MonPoolDetail } from '../shared/ceph/native';

const constant = { kind: 'PoolList', apiVersion: 'v1', items: [{ name: 'rbd', id: 1, applications: ['rbd'] }] };

async function main(): Promise<void> {
  const app = express();
  let page: Buffer = Buffer.from('[]');
  app.put('/page', express.raw({ type: '*/*', limit: '64mb' }), (req, res) => {
    page = req.body as Buffer;
    res.status(204).end();
  });
  app.get('/page', (_req, res) => {
    res.type('json').send(page);
  });
  if (process.argv.includes('--ceph')) {
    const cluster = new (loadAddon().Cluster)();
    await cluster.connect({ conf: process.env.CEPH_CONF, id: 'admin', keyring: process.env.CEPH_KEYRING, timeoutSeconds: 10 });
    app.get('/', async (_req, res) => {
      const pools = JSON.parse(await cluster.listPools()) as MonPoolDetail[];
      const items = pools.map((p) => ({ name: p.pool_name, id: p.pool_id, applications: Object.keys(p.application_metadata ?? {}) }));
      res.json({ kind: 'PoolList', apiVersion: 'v1', items: items.filter((p) => p.applications.includes('rbd')) });
    });
    app.get('/images', async (req, res) => {
      const page = await cluster.listImagesPage(String(req.query.pool), '', { limit: Number(req.query.limit), json: true });
      res.type('json').send(Buffer.concat([Buffer.from('{"kind":"ImageList","apiVersion":"v1","metadata":{},"items":'), page.items!, Buffer.from('}')]));
    });
    app.post('/create', express.json(), async (req, res) => {
      const { pool, name, size } = req.body as { pool: string; name: string; size: number };
      const described = await cluster.createImage(pool, '', name, size, {}, true);
      res.status(201).json({ kind: 'Image', pool, name, size, ...described });
    });
  } else {
    app.get('/', (_req, res) => {
      res.json(constant);
    });
  }
  const server = app.listen(Number(process.env.PORT ?? 8080), '127.0.0.1');
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
}

void main();
