import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { SqliteStore } from '../../peer/node/sqlite-store.js';
import { runScenario, scenario } from '../support/sim-scenarios.js';

/**
 * The convergence property of tests/engine/convergence.property.test.ts with every peer on a
 * real SQLite file (fewer schedules: each one opens 3 to 5 databases).
 */
const RUNS = Number(process.env.MESHSYNC_SIM_SQLITE_RUNS ?? 200);

describe('convergence on SQLite stores', () => {
  it(`${RUNS} schedules on SQLite files end identical with no acknowledged write lost`, async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const dir = mkdtempSync(join(tmpdir(), 'meshsync-sim-'));
        let n = 0;
        // 'normal' sync: crash-durability is tested elsewhere; this is about merge and cursors.
        const makeStore = (): SqliteStore =>
          new SqliteStore({ path: join(dir, `p${n++}.db`), synchronous: 'normal' });
        try {
          await runScenario(s, makeStore);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: RUNS },
    );
  }, 600_000);
});
