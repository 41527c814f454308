import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { SqliteStore } from '../../peer/node/sqlite-store.js';
import type { StorePort } from '../../peer/store/store-port.js';
import { runStoreConformance } from './run-store-suite.js';

const dir = mkdtempSync(join(tmpdir(), 'meshsync-sqlite-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

runStoreConformance({
  name: 'sqlite',
  encodedRows: true,
  async create() {
    const store = new SqliteStore({ path: join(dir, `store-${++n}.db`) });
    await store.open();
    return store;
  },
  async reopen(store: StorePort) {
    await store.close();
    const again = new SqliteStore({ path: (store as SqliteStore).path });
    await again.open();
    return again;
  },
});
