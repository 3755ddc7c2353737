/**
 * Ends every run with a plain "N passed, N failed" line that any CI can read,
 * and how many of the functions' answers were checked against the OpenAPI
 * document (helpers/openapi-check.ts), when the run had any.
 */
const fs = require('node:fs');

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    process.stdout.write(
      `\n${results.numPassedTests} passed, ${results.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}\n`,
    );
    const log = process.env.OPENAPI_CHECK_LOG;
    if (!log || !fs.existsSync(log)) return;
    const checks = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);
    fs.rmSync(log, { force: true });
    const kinds = new Set(checks);
    const failures = checks.filter((line) => Number(line.split(' ')[0]) >= 400).length;
    process.stdout.write(
      `${checks.length} answers checked against the OpenAPI document (${checks.length - failures} successes, ${failures} errors; ` +
        `${kinds.size} status/method/path combinations)\n`,
    );
  }
}
module.exports = SummaryReporter;
