/**
 * The functions, functions/<name>/handler each. The table is static so that
 * the bundler (scripts/bundle.mjs) sees every handler; a test checks it
 * against the folders. A handler loads when its function is first asked for.
 */
import type { FunctionModule } from './context';

const HANDLERS: Record<string, () => unknown> = {
  'create-image': () => require('../../functions/create-image/handler'),
  'delete-image': () => require('../../functions/delete-image/handler'),
  'list-images': () => require('../../functions/list-images/handler'),
  'list-pools': () => require('../../functions/list-pools/handler'),
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
