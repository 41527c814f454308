export * from '../shared/index.js';
export {
  createPeer,
  Peer,
  type PeerOptions,
  type PeerStatus,
  type PeerEvents,
  type ConflictResolution,
} from './peer.js';
export { Collection, type ListQuery } from './collection.js';
export {
  Replica,
  changeEvents,
  type ReplicaOptions,
  type ChangeEvent,
  type AppliedBatch,
} from './replica.js';
export { SyncSession } from './sync/session.js';
export * from './sync/session-types.js';
export type * from './store/store-port.js';
export { MemoryStore } from './store/memory-store.js';
export type * from './transport/transport-port.js';
export { createMemoryTransportPair, type MemoryPairOptions } from './transport/memory-transport.js';
export { joinRecord, visibleValue, isVisible } from './merge.js';
