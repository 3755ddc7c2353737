import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/**
 * The source's relative imports run one way: no module reaches itself again
 * through what it imports. A cycle makes load order matter (a value read
 * before its module finished loading is undefined) and blurs which module
 * depends on which.
 */
const ROOT = path.resolve(__dirname, '../..');
const SOURCE_DIRS = ['shared', 'functions'];

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** The file a relative specifier names: x.ts, or x/index.ts. */
function resolve(from: string, specifier: string): string | undefined {
  const base = path.resolve(path.dirname(from), specifier);
  return [`${base}.ts`, path.join(base, 'index.ts'), base].find((candidate) => candidate.endsWith('.ts') && fs.existsSync(candidate));
}

/**
 * Each file's relative imports, as repository paths: TypeScript's own scan of
 * import and export declarations (type-only ones too) and require() calls.
 */
function importGraph(files: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
    const targets = importedFiles
      .map(({ fileName }) => fileName)
      .filter((specifier) => specifier.startsWith('./') || specifier.startsWith('../'))
      .map((specifier) => resolve(file, specifier))
      .filter((target): target is string => target !== undefined);
    graph.set(path.relative(ROOT, file), [...new Set(targets.map((target) => path.relative(ROOT, target)))]);
  }
  return graph;
}

/**
 * The cycles a depth-first walk meets, each as its files in order from the
 * first in sort order: at least one whenever the graph has any.
 */
function cycles(graph: Map<string, string[]>): string[][] {
  const found = new Map<string, string[]>();
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') {
        const cycle = stack.slice(stack.indexOf(next));
        const start = cycle.indexOf([...cycle].sort()[0]!);
        const rotated = [...cycle.slice(start), ...cycle.slice(0, start)];
        found.set(rotated.join(' → '), rotated);
      } else if (!state.has(next)) {
        visit(next);
      }
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);
  return [...found.values()];
}

const graph = importGraph(SOURCE_DIRS.flatMap((dir) => sourceFiles(path.join(ROOT, dir))));

test('the graph covers the runtime and the handlers', () => {
  expect(graph.get('shared/runtime/server.ts')).toEqual(expect.arrayContaining(['shared/runtime/status.ts']));
  expect(graph.get('functions/create-image/handler.ts')).toEqual(expect.arrayContaining(['shared/runtime/params.ts']));
  // Lazy loads count: require() and import types.
  expect(graph.get('shared/runtime/functions.ts')).toEqual(expect.arrayContaining(['functions/create-image/handler.ts']));
});

test('no relative import cycle in shared/ or functions/', () => {
  expect(cycles(graph).map((cycle) => [...cycle, cycle[0]].join(' → '))).toEqual([]);
});

test('a cycle is found, however long', () => {
  const made = new Map([
    ['a.ts', ['b.ts']],
    ['b.ts', ['c.ts', 'd.ts']],
    ['c.ts', ['a.ts']],
    ['d.ts', []],
  ]);
  expect(cycles(made)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  expect(cycles(new Map([['a.ts', ['a.ts']]]))).toEqual([['a.ts']]);
});
