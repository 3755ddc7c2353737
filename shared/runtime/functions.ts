/** Finds and loads the functions in functions/<name>/handler. */
import fs from 'node:fs';
import path from 'node:path';
import type { FunctionModule } from './context';

// shared/runtime -> functions, from the source tree and from dist/ alike.
const FUNCTIONS_DIR = path.resolve(__dirname, '../../functions');

export function functionNames(): string[] {
  return fs
    .readdirSync(FUNCTIONS_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && fs.readdirSync(path.join(FUNCTIONS_DIR, entry.name)).some((f) => /^handler\.(ts|js)$/.test(f)))
    .map((entry) => entry.name)
    .sort();
}

export function loadFunction(name: string): FunctionModule {
  if (!functionNames().includes(name)) {
    throw new Error(`No function "${name}": expected one of ${functionNames().join(', ')}`);
  }
  const mod = require(path.join(FUNCTIONS_DIR, name, 'handler')) as Partial<FunctionModule>;
  if (typeof mod.default !== 'function' || !Array.isArray(mod.methods)) {
    throw new Error(`functions/${name}/handler must export a default handler and its methods`);
  }
  return mod as FunctionModule;
}

export function loadFunctions(names = functionNames()): Map<string, FunctionModule> {
  return new Map(names.map((name) => [name, loadFunction(name)]));
}
