/** docs/benchmarks.md is generated (npm run bench:docs): it must be what the committed results make. */
import fs from 'node:fs';
import path from 'node:path';
import { benchmarksDoc } from '../../bench/report';

test('docs/benchmarks.md is what bench/report.ts makes from bench/results/*.json and bench/analysis.md', () => {
  const committed = fs.readFileSync(path.join(__dirname, '../../docs/benchmarks.md'), 'utf8');
  expect(committed).toBe(benchmarksDoc());
});
