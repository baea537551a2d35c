#!/usr/bin/env node
// Runs the whole suite with vitest and ends with one plain summary line ("N passed, N failed"),
// which CI reads; the exit code is vitest's own.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'sendgate-test-'));
const report = join(dir, 'report.json');
const result = spawnSync('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)], { stdio: 'inherit' });
let summary = 'tests: no report written';
try {
  const data = JSON.parse(readFileSync(report, 'utf8'));
  summary = `tests: ${data.numPassedTests} passed, ${data.numFailedTests} failed, ${data.numPendingTests + (data.numTodoTests ?? 0)} skipped`;
} catch {
  /* vitest did not get far enough to write a report; its exit code says why */
}
rmSync(dir, { recursive: true, force: true });
console.log(summary);
process.exit(result.status ?? 1);
