#!/usr/bin/env node
// Runs vitest, then prints one plain closing line ("N passed, N failed, N skipped") that any CI
// log reader understands. Extra arguments go to vitest (e.g. a file filter).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'meshsync-vitest-'));
const out = join(dir, 'results.json');
const args = [
  'vitest',
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${out}`,
  ...process.argv.slice(2),
];
const status = spawnSync('npx', args, { stdio: 'inherit' }).status ?? 1;
let line = 'tests: 0 passed, 1 failed (vitest wrote no results)';
try {
  const r = JSON.parse(readFileSync(out, 'utf8'));
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  line = `tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`;
} catch {
  // keep the failure line
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(line);
process.exit(status);
