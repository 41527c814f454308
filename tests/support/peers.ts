import { createPeer, type Peer, type PeerOptions } from '../../peer/peer.js';
import { MemoryStore } from '../../peer/store/memory-store.js';
import { createMemoryTransportPair } from '../../peer/transport/memory-transport.js';
import type { Transport } from '../../peer/transport/transport-port.js';
import type { SyncSession } from '../../peer/sync/session.js';
import type { SyncOptions } from '../../peer/sync/session-types.js';
import { silentLogger } from '../../shared/log.js';

/** A peer on a fresh memory store with a readable device id. */
export function memoryPeer(device: string, options: Partial<PeerOptions> = {}): Promise<Peer> {
  return createPeer({ store: new MemoryStore(), device, logger: silentLogger, ...options });
}

/** Connects two peers with an in-memory pair and waits for both handshakes. */
export async function link(
  a: Peer,
  b: Peer,
  options: { a?: SyncOptions; b?: SyncOptions } = {},
  makePair: () =>
    [Transport, Transport] | Promise<[Transport, Transport]> = createMemoryTransportPair,
): Promise<[SyncSession, SyncSession]> {
  const [ta, tb] = await makePair();
  const sa = a.connect(ta, options.a);
  const sb = b.connect(tb, options.b);
  await Promise.all([sa.whenReady(), sb.whenReady()]);
  return [sa, sb];
}

/** Resolves when `check` returns true, polling on the event loop; fails after `ms`. */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  ms = 5000,
): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
