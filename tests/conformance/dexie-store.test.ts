import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { DexieStore } from '../../peer/browser/dexie-store.js';
import type { StorePort } from '../../peer/store/store-port.js';
import { runStoreConformance } from './run-store-suite.js';

// One IndexedDB per test file, as a browser profile would be; each store its own database.
const indexedDB = new IDBFactory();
let n = 0;
const names = new WeakMap<StorePort, string>();

function open(name: string): Promise<DexieStore> {
  const store = new DexieStore({ name, indexedDB, IDBKeyRange });
  names.set(store, name);
  return store.open().then(() => store);
}

runStoreConformance({
  name: 'dexie (fake-indexeddb)',
  create: () => open(`store-${++n}`),
  async reopen(store) {
    await store.close();
    return open(names.get(store)!);
  },
});
