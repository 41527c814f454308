import fc from 'fast-check';
import { describe, it } from 'vitest';
import { runScenario, scenario } from '../support/sim-scenarios.js';

/**
 * 3 to 5 peers, random writes on overlapping keys, random link schedules (deliver in order or
 * out of order, duplicate, drop, cut mid-page, heal, pull/push from either side, time passing).
 * After healing, every peer must hold the same state with no acknowledged write lost.
 *
 * A failure prints fast-check's seed and path; replay it with
 *   MESHSYNC_SIM_SEED=<seed> MESHSYNC_SIM_PATH=<path> npx vitest run tests/engine/convergence
 */
const RUNS = Number(process.env.MESHSYNC_SIM_RUNS ?? 500);

describe('convergence under random schedules', () => {
  it(`${RUNS} schedules end with identical peers and no acknowledged write lost`, async () => {
    const seed =
      process.env.MESHSYNC_SIM_SEED === undefined
        ? undefined
        : Number(process.env.MESHSYNC_SIM_SEED);
    const path = process.env.MESHSYNC_SIM_PATH;
    await fc.assert(
      fc.asyncProperty(scenario, (s) => runScenario(s)),
      {
        numRuns: RUNS,
        ...(seed === undefined ? {} : { seed }),
        ...(path === undefined ? {} : { path }),
      },
    );
  }, 600_000);
});
