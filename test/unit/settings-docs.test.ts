/**
 * The settings tables in docs/ list exactly the environment variables the
 * code reads: docs/runtime.md's "Settings" the runtime's, docs/configuration.md's
 * "Environment" the Ceph config loader's. A new variable without a row, or a
 * row for one no longer read, fails here.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import MarkdownIt from 'markdown-it';
import { loadCephConfig } from '../../shared/config';
import { loadRuntimeSettings } from '../../shared/runtime/settings';

const root = path.resolve(__dirname, '../..');
const read = (file: string) => fs.readFileSync(path.join(root, file), 'utf8');

/** Every name a loader asks its `env` for, through a recording proxy over an empty environment. */
function namesLoaderReads(load: (env: NodeJS.ProcessEnv) => unknown): Set<string> {
  const names = new Set<string>();
  const env = new Proxy({} as NodeJS.ProcessEnv, {
    get(_target, key) {
      if (typeof key === 'string') names.add(key);
      return undefined;
    },
  });
  load(env);
  return names;
}

/** `process.env.NAME` uses in the given source files: the reads that bypass the loaders' `env`. */
function processEnvReads(files: string[]): Set<string> {
  const uses = files.flatMap((file) => [...read(file).matchAll(/process\.env(?:\.(\w+)|\[\s*'(\w+)'\s*\])/g)]);
  return new Set(uses.map((m) => (m[1] ?? m[2])!));
}

/** The names in backticks in the first column of the first table under the heading `heading`. */
function firstColumnNames(file: string, heading: string): Set<string> {
  const tokens = new MarkdownIt().parse(read(file), {});
  const start = tokens.findIndex((t, i) => t.type === 'heading_open' && tokens[i + 1]?.content === heading);
  expect(start).toBeGreaterThanOrEqual(0);
  const names = new Set<string>();
  let inTable = false;
  for (let i = start + 1; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.type === 'heading_open' && !inTable) break;
    if (t.type === 'table_open') inTable = true;
    if (t.type === 'table_close') break;
    // The first cell of a body row: its inline content follows the td_open.
    if (t.type === 'tr_open' && tokens[i + 1]?.type === 'td_open') {
      const cell = tokens[i + 2]?.content ?? '';
      for (const m of cell.matchAll(/`(\w+)`/g)) names.add(m[1]!);
    }
  }
  return names;
}

const sorted = (names: Iterable<string>) => [...names].sort();

describe('docs/runtime.md, Settings', () => {
  const runtimeFiles = ['shared/runtime', 'shared/local'].flatMap((dir) =>
    fs.readdirSync(path.join(root, dir)).filter((f) => f.endsWith('.ts')).map((f) => `${dir}/${f}`),
  );
  const readByRuntime = new Set([...namesLoaderReads(loadRuntimeSettings), ...processEnvReads(runtimeFiles)]);
  // Read by the runtime but documented in prose where they matter, not as settings.
  const inProse: Record<string, string> = {
    TMPDIR: 'docs/runtime.md', // where the lock file goes
    RBD_FUNCTION: 'docs/runtime.md', // which function a process serves ("One function on its own")
    RBD_SANDBOX: 'docs/deploy.md', // the image turns the local gateway's sandbox off
  };

  test('the table lists exactly the variables the runtime reads', () => {
    const documented = firstColumnNames('docs/runtime.md', 'Settings');
    expect(sorted(documented)).toEqual(sorted([...readByRuntime].filter((name) => !(name in inProse))));
  });

  test.each(Object.entries(inProse))('%s, read but not a setting, is read and named in %s', (name, page) => {
    expect(readByRuntime).toContain(name);
    expect(read(page)).toContain(name);
  });
});

describe('docs/configuration.md, Environment', () => {
  test('the table lists exactly the variables the Ceph config loader reads', () => {
    // A ceph.conf in the default place, so the loader needs nothing from env and reads all it would.
    const cephDir = fs.mkdtempSync(path.join(os.tmpdir(), 'settings-docs-'));
    fs.writeFileSync(path.join(cephDir, 'ceph.conf'), '');
    try {
      const readByLoader = namesLoaderReads((env) => loadCephConfig({ env, cephDir }));
      // OPENFAAS_SECRETS_DIR moves the secrets' root: the text under the table's list item names it.
      expect(read('docs/configuration.md')).toContain('`OPENFAAS_SECRETS_DIR` moves the root');
      readByLoader.delete('OPENFAAS_SECRETS_DIR');
      expect(sorted(firstColumnNames('docs/configuration.md', 'Configuration'))).toEqual(sorted(readByLoader));
    } finally {
      fs.rmSync(cephDir, { recursive: true, force: true });
    }
  });
});
