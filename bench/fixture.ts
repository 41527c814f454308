/** Peers on memory stores, linked over the in-memory transport pair, as a real app sets them up. */
import { createPeer, type Peer } from '../peer/peer.js';
import { MemoryStore } from '../peer/store/memory-store.js';
import type { SyncSession } from '../peer/sync/session.js';
import { createMemoryTransportPair } from '../peer/transport/memory-transport.js';
import { silentLogger } from '../shared/log.js';
import type { Task } from './records.js';

export const COLLECTION = 'tasks';

export function memoryPeer(device: string): Promise<Peer> {
  return createPeer({ store: new MemoryStore(), device, logger: silentLogger });
}

export interface Link {
  /** `a`'s session with `b`, and `b`'s session with `a`. */
  sa: SyncSession;
  sb: SyncSession;
  close(): void;
}

/** Connects two peers without automatic pulls and waits for both handshakes. */
export async function link(a: Peer, b: Peer): Promise<Link> {
  const [ta, tb] = createMemoryTransportPair();
  const sa = a.connect(ta, { autoPull: false });
  const sb = b.connect(tb, { autoPull: false });
  await Promise.all([sa.whenReady(), sb.whenReady()]);
  return {
    sa,
    sb,
    close: () => {
      sa.close('bench done');
      sb.close('bench done');
    },
  };
}

/** Writes every task through the public API, one `put` at a time. */
export async function seedByPut(peer: Peer, tasks: Iterable<Task>): Promise<void> {
  const collection = peer.collection(COLLECTION);
  for (const task of tasks) await collection.put(task.id, task.value);
}
