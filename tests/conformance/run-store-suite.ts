import { afterEach, describe, it } from 'vitest';
import type { StorePort } from '../../peer/store/store-port.js';
import { storeCases, type StoreHarness } from './store-suite.js';

/** Registers the store conformance cases with vitest for one adapter. */
export function runStoreConformance(harness: StoreHarness): void {
  describe(`store conformance: ${harness.name}`, () => {
    const made: StorePort[] = [];
    afterEach(async () => {
      for (const s of made.splice(0))
        await (harness.dispose !== undefined ? harness.dispose(s) : s.close());
    });
    for (const c of storeCases.filter(
      (x) =>
        (!x.persistent || harness.reopen !== undefined) &&
        (!x.encoded || harness.encodedRows === true),
    )) {
      it(c.name, () => c.run(harness, (s) => (made.push(s), s)));
    }
  });
}
