/**
 * Benchmark entry: `npm run bench` runs them all, `npm run bench -- <name> [...]` only those.
 * Loopback only: sqlite-sync uses files in a temporary directory and a child process's pipes;
 * signaling runs a server on 127.0.0.1 (port 0) in a child process; direct listens on 127.0.0.1.
 */
import { direct } from './direct.js';
import { fullSync } from './full-sync.js';
import { incremental } from './incremental.js';
import { qr } from './qr.js';
import { rtc } from './rtc.js';
import { secureSync } from './secure-sync.js';
import { signaling } from './signaling.js';
import { sqliteSync } from './sqlite-sync.js';
import { formatMs, gcAvailable, memoryLine } from './table.js';

const BENCHMARKS: Readonly<Record<string, () => Promise<void>>> = {
  'full-sync': fullSync,
  incremental,
  'sqlite-sync': sqliteSync,
  qr,
  'secure-sync': secureSync,
  signaling,
  rtc,
  direct,
};

async function main(names: readonly string[]): Promise<number> {
  const unknown = names.filter((name) => !Object.hasOwn(BENCHMARKS, name));
  if (unknown.length > 0) {
    console.error(
      `unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(BENCHMARKS).join(', ')}`,
    );
    return 2;
  }
  const selected = names.length > 0 ? names : Object.keys(BENCHMARKS);
  console.log(
    `meshsync benchmarks: ${selected.join(', ')} (node ${process.version}, ` +
      `gc between runs: ${gcAvailable() ? 'yes' : 'no, run with --expose-gc for it'})`,
  );
  const start = performance.now();
  for (const name of selected) {
    const benchStart = performance.now();
    await BENCHMARKS[name]!();
    console.log(`${name}: took ${formatMs((performance.now() - benchStart) / 1000)} s`);
  }
  console.log(`\n${memoryLine('process at the end')}`);
  console.log(`all benchmarks took ${formatMs((performance.now() - start) / 1000)} s`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
