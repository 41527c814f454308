/** meshsync for browsers: the isomorphic API plus browser adapters. */
export * from '../index.js';
export { DexieStore, DEXIE_SCHEMA_VERSION, type DexieStoreOptions } from './dexie-store.js';
export { browserWebSocket } from './web-socket.js';
export { browserDirectDialer } from './direct-dialer.js';
