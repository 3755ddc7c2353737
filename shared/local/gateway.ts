/**
 * The local gateway: every function in one process behind the OpenFaaS
 * gateway's routes (/function/<name>[/<path>] and /async-function/<name>),
 * plus /healthz, the OpenAPI document at /openapi.json and a facade in the
 * style of the seed service (/api/v1/pools/...).
 */
import type express from 'express';
import type { FunctionModule } from '../runtime/context';
import { openApiAnswer } from '../runtime/contract';
import { methodNotAllowed } from '../runtime/responses';
import type { Runtime } from '../runtime/server';
import { HttpError } from '../runtime/status';
import { mountAsync } from './async';

export function mountGateway(app: express.Express, runtime: Runtime, functions: Map<string, FunctionModule>): void {
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', ceph: runtime.options.connection.ready ? 'connected' : 'not connected', functions: [...functions.keys()] });
  });

  runtime.serveContract('/openapi.json', openApiAnswer(functions, 'gateway'));

  for (const [name, mod] of functions) {
    app.all(`/function/${name}`, ...runtime.functionRoute(name, mod));
    app.all(`/function/${name}/{*rest}`, ...runtime.functionRoute(name, mod, { path: (req) => req.path.slice(`/function/${name}`.length) }));
  }
  app.all('/function/:name{/*rest}', (req, _res, next) => {
    next(new HttpError(404, 'NotFound', `No function "${req.params.name}"; there are ${[...functions.keys()].join(', ')}.`));
  });

  mountAsync(app, runtime, functions);
  mountFacade(app, runtime, functions);
}

/** Seed-style envelope: Kind, APIVersion, Items (and Metadata) capitalised. */
function capitalise(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const rename: Record<string, string> = { kind: 'Kind', apiVersion: 'APIVersion', items: 'Items', metadata: 'Metadata' };
  return Object.fromEntries(Object.entries(body).map(([key, value]) => [rename[key] ?? key, value]));
}

function mountFacade(app: express.Express, runtime: Runtime, functions: Map<string, FunctionModule>): void {
  const fn = (name: string) => {
    const mod = functions.get(name);
    if (!mod) throw new Error(`the facade needs the ${name} function`);
    return mod;
  };
  const pool = (req: express.Request) => ({ pool: req.params.pool });

  app.get(
    '/api/v1/pools',
    ...runtime.functionRoute('list-pools', fn('list-pools'), {
      methods: ['GET'],
      // The seed listed names only.
      respond: (body) => {
        const out = capitalise(body) as { Items?: { name: string }[] };
        return out.Items ? { ...out, Items: out.Items.map(({ name }) => ({ name })) } : out;
      },
    }),
  );
  app.all('/api/v1/pools', methodNotAllowed(['GET']));

  const images = '/api/v1/pools/:pool/images';
  app.get(images, ...runtime.functionRoute('list-images', fn('list-images'), { methods: ['GET'], params: pool, respond: capitalise }));
  app.post(images, ...runtime.functionRoute('create-image', fn('create-image'), { methods: ['POST'], params: pool, respond: capitalise }));
  app.all(images, methodNotAllowed(['GET', 'POST']));

  const image = '/api/v1/pools/:pool/images/:name';
  app.delete(
    image,
    ...runtime.functionRoute('delete-image', fn('delete-image'), {
      methods: ['DELETE'],
      params: (req) => ({ pool: req.params.pool, name: req.params.name }),
      respond: capitalise,
    }),
  );
  app.all(image, methodNotAllowed(['DELETE']));
}
