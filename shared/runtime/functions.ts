/**
 * The functions, functions/<name>/handler each. The table is static so that
 * the bundler (scripts/bundle.mjs) sees every handler; a test checks it
 * against the folders. A handler loads when its function is first asked for.
 */
import type { FunctionModule } from './context';

const HANDLERS: Record<string, () => unknown> = {
  'clone-image': () => require('../../functions/clone-image/handler'),
  'create-image': () => require('../../functions/create-image/handler'),
  'create-snapshot': () => require('../../functions/create-snapshot/handler'),
  'delete-image': () => require('../../functions/delete-image/handler'),
  'delete-snapshot': () => require('../../functions/delete-snapshot/handler'),
  'flatten-image': () => require('../../functions/flatten-image/handler'),
  'get-image': () => require('../../functions/get-image/handler'),
  'list-images': () => require('../../functions/list-images/handler'),
  'list-pools': () => require('../../functions/list-pools/handler'),
  'list-snapshots': () => require('../../functions/list-snapshots/handler'),
  'list-trash': () => require('../../functions/list-trash/handler'),
  'purge-trash': () => require('../../functions/purge-trash/handler'),
  'resize-image': () => require('../../functions/resize-image/handler'),
  'restore-image': () => require('../../functions/restore-image/handler'),
  'rollback-image': () => require('../../functions/rollback-image/handler'),
};

export function functionNames(): string[] {
  return Object.keys(HANDLERS).sort();
}

export function loadFunction(name: string): FunctionModule {
  const load = Object.hasOwn(HANDLERS, name) ? HANDLERS[name] : undefined;
  if (!load) throw new Error(`No function "${name}": expected one of ${functionNames().join(', ')}`);
  const mod = load() as Partial<FunctionModule>;
  if (typeof mod.default !== 'function' || !Array.isArray(mod.methods) || !Array.isArray(mod.parameters)) {
    throw new Error(`functions/${name}/handler must export a default handler, its methods and its parameters`);
  }
  return mod as FunctionModule;
}

export function loadFunctions(names = functionNames()): Map<string, FunctionModule> {
  return new Map(names.map((name) => [name, loadFunction(name)]));
}
