import { MemoryStore } from '../../peer/store/memory-store.js';
import { runStoreConformance } from './run-store-suite.js';

runStoreConformance({
  name: 'memory',
  async create() {
    const store = new MemoryStore();
    await store.open();
    return store;
  },
});
