#!/usr/bin/env node
// Bundles what ships in the image into two files with esbuild:
//   dist/bundle/function.js   one function (shared/runtime/main.ts)
//   dist/bundle/gateway.js    the local gateway (shared/local/main.ts)
// One file loads in about half the time of ~300 modules resolved one by one
// (cold start) and holds less in memory. The native addon stays outside: it
// is found at ../../native/build/Release, as from dist/shared/ceph.
//
//   node scripts/bundle.mjs [--outdir DIR]     (npm run build:bundle)
//   node scripts/bundle.mjs --outdir DIR --entry NAME=FILE ...
//     other entries, built the same way (the benchmark's express floors).
import path from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: { outdir: { type: 'string', default: path.join(root, 'dist/bundle') }, entry: { type: 'string', multiple: true } },
});
const entryPoints = values.entry
  ? Object.fromEntries(values.entry.map((e) => e.split(/=(.*)/s).slice(0, 2)))
  : { function: 'shared/runtime/main.ts', gateway: 'shared/local/main.ts' };

const result = await build({
  absWorkingDir: root,
  entryPoints,
  outdir: values.outdir,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  tsconfig: 'tsconfig.build.json',
  // Not minified: identifiers and lines stay as written, so stack traces and
  // profiles read as the source does. (keepNames would wrap every closure
  // created, per request too, in a defineProperty call.)
  // Third-party licence notices stay with the code.
  legalComments: 'eof',
  logLevel: 'warning',
  metafile: true,
});
for (const [file, { bytes }] of Object.entries(result.metafile.outputs)) {
  process.stdout.write(`${path.relative(root, path.resolve(root, file))}: ${(bytes / 1024).toFixed(0)} KiB\n`);
}
