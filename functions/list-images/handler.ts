/**
 * list-images: GET|POST with pool (required), namespace, limit, continue,
 * detail → 200 ImageList, sorted by name, paged with an opaque token.
 * detail=true opens only the page's images.
 */
import type { CephClient, ImageInfo, ImageRef } from '../../shared/ceph/client';
import { CephError, invalidParameterError } from '../../shared/errors';
import { imageResource } from '../../shared/resources';
import type { FunctionContext, FunctionEvent } from '../../shared/runtime/context';
import { eventTypes } from '../../shared/runtime/event-types';
import { Params, checkPoolAllowed } from '../../shared/runtime/params';
import { RawJson } from '../../shared/runtime/raw-json';

export const methods = ['GET'] as const;

/** The parameters it takes, in the query string or the body; any other is refused (400). */
export const parameters = ['pool', 'namespace', 'detail', 'limit', 'continue'] as const;

/** As a CloudEvent: takes io.ceph.rbd.images.list, replies io.ceph.rbd.images.listed (or io.ceph.rbd.error). */
export const events = eventTypes('images.list', 'images.listed');

const LIMITS = { plain: { fallback: 1000, max: 10_000 }, detail: { fallback: 100, max: 1000 } };
/** Images opened at once for detail=true. */
const STAT_CONCURRENCY = 16;

interface PageToken {
  pool: string;
  namespace: string;
  /** The last name of the previous page; the next page starts after it. */
  after: string;
}

export default async function listImages(event: FunctionEvent, context: FunctionContext) {
  const params = new Params(event);
  const pool = params.name('pool');
  checkPoolAllowed(context.settings.allowedPools, pool);
  const namespace = params.namespace();
  const detail = params.bool('detail');
  const { fallback, max } = detail ? LIMITS.detail : LIMITS.plain;
  const limit = params.int('limit', fallback, 1, max);
  const token = params.string('continue');
  const after = token ? decodeToken(token, pool, namespace) : undefined;

  const ceph = await context.ceph();
  const continuation = (last: string | undefined, more: boolean) =>
    more && last !== undefined ? { continue: encodeToken({ pool, namespace, after: last }) } : {};
  if (!detail) {
    // Names only: the addon sorts, cuts and writes the page's JSON off the event loop.
    const page = await ceph.listImagesPage(pool, namespace, { after, limit, json: true });
    const metadata = continuation(page.last, page.more);
    return RawJson.concat(`{"kind":"ImageList","apiVersion":"v1","metadata":${JSON.stringify(metadata)},"items":`, page.items, '}');
  }
  const page = await ceph.listImagesPage(pool, namespace, { after, limit });
  return {
    kind: 'ImageList',
    apiVersion: 'v1',
    metadata: continuation(page.last, page.more),
    items: await withDetail(ceph, pool, namespace, page.items),
  };
}

function encodeToken(token: PageToken): string {
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

function decodeToken(text: string, pool: string, namespace: string): string {
  let token: Partial<PageToken>;
  try {
    token = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Partial<PageToken>;
  } catch {
    throw invalidParameterError('continue', 'a token from a previous page', text);
  }
  if (token.pool !== pool || token.namespace !== namespace || typeof token.after !== 'string') {
    throw invalidParameterError('continue', `a token from a previous page of ${pool}/${namespace}`, text);
  }
  return token.after;
}

/** Stats the page's images, a few at a time; images deleted meanwhile drop out. */
async function withDetail(ceph: CephClient, pool: string, namespace: string, page: ImageRef[]) {
  const infos: (ImageInfo | undefined)[] = new Array(page.length);
  let next = 0;
  const worker = async () => {
    while (next < page.length) {
      const i = next++;
      try {
        infos[i] = await ceph.statImage({ pool, namespace, name: page[i]!.name });
      } catch (err) {
        if (!(err instanceof CephError && err.code === 'ENOENT')) throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(STAT_CONCURRENCY, page.length) }, worker));
  return infos
    .filter((info): info is ImageInfo => info !== undefined)
    .map((info) => {
      const { kind: _kind, apiVersion: _apiVersion, ...fields } = imageResource(info);
      return { ...fields, snapshots: info.snapshotCount, watchers: info.watchers.map((w) => w.address) };
    });
}
