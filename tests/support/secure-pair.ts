import { createMemoryTransportPair } from '../../peer/transport/memory-transport.js';
import type { Transport } from '../../peer/transport/transport-port.js';
import type { ChannelBinding } from '../../shared/secure/proof.js';

/** A transport that shows `binding` (simulated DTLS fingerprints) and forwards the rest. */
export function withBinding(inner: Transport, binding: ChannelBinding): Transport {
  return {
    kind: inner.kind,
    streaming: inner.streaming,
    binding,
    send: (frame) => inner.send(frame),
    close: (reason) => inner.close(reason),
    on: (event, listener) => inner.on(event, listener),
  };
}

/** Fake fingerprints: 32 bytes filled with `n`. */
export function fingerprint(n: number): Uint8Array {
  return new Uint8Array(32).fill(n);
}

/**
 * A relay in the middle: A's transport ends at M1, B's at M2, and every frame is forwarded
 * unchanged. With `dtls`, each leg has its own fingerprints, as when someone terminates DTLS on
 * both sides (the signaling server swapped the offers).
 */
export function relayedPair(dtls: boolean): { a: Transport; b: Transport; frames: Uint8Array[] } {
  const [a, m1] = createMemoryTransportPair();
  const [m2, b] = createMemoryTransportPair();
  const frames: Uint8Array[] = [];
  m1.on('message', (f) => {
    frames.push(f);
    void m2.send(f).catch(() => undefined);
  });
  m2.on('message', (f) => {
    frames.push(f);
    void m1.send(f).catch(() => undefined);
  });
  m1.on('close', () => m2.close('relay'));
  m2.on('close', () => m1.close('relay'));
  if (!dtls) return { a, b, frames };
  return {
    a: withBinding(a, { local: fingerprint(1), remote: fingerprint(8) }),
    b: withBinding(b, { local: fingerprint(2), remote: fingerprint(9) }),
    frames,
  };
}
