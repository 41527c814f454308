import type { DataChannelLike } from '../../peer/rtc/rtc-port.js';

type Listener = (event: unknown) => void;

/**
 * An in-memory stand-in for an RTCDataChannel, for the transport's unit tests only (the real
 * stacks run in tests/node/rtc-conformance.test.ts): messages reach the twin after `delayMs`,
 * `bufferedAmount` counts what has not arrived yet and 'bufferedamountlow' fires when it drops
 * to the threshold, as the W3C channel does.
 */
export class FakeChannel implements DataChannelLike {
  readonly label = 'meshsync';
  readyState = 'open';
  bufferedAmount = 0;
  bufferedAmountLowThreshold = 0;
  binaryType = 'blob';
  twin: FakeChannel | null = null;
  /** Every message sent, as sent. */
  readonly sent: Uint8Array[] = [];
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(private readonly delayMs = 0) {}

  send(data: Uint8Array<ArrayBuffer>): void {
    if (this.readyState !== 'open') throw new Error('InvalidStateError: channel not open');
    const copy = data.slice();
    this.sent.push(copy);
    this.bufferedAmount += copy.length;
    setTimeout(() => {
      const before = this.bufferedAmount;
      this.bufferedAmount -= copy.length;
      const low = this.bufferedAmountLowThreshold;
      if (before > low && this.bufferedAmount <= low) this.emit('bufferedamountlow', {});
      if (this.twin?.readyState === 'open') this.twin.emit('message', { data: copy.buffer });
    }, this.delayMs);
  }

  /** Delivers something as if the twin had sent it (for hostile input). */
  receive(data: unknown): void {
    this.emit('message', { data });
  }

  close(): void {
    for (const channel of [this, this.twin]) {
      if (!channel || channel.readyState === 'closed') continue;
      channel.readyState = 'closed';
      setTimeout(() => channel.emit('close', {}), 0);
    }
  }

  addEventListener(type: string, listener: Listener): void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener);
  }

  removeEventListener(type: string, listener: Listener): void {
    this.listeners.get(type)?.delete(listener);
  }

  emit(type: string, event: unknown): void {
    for (const listener of [...(this.listeners.get(type) ?? [])]) listener(event);
  }
}

export function fakeChannelPair(delayMs = 0): [FakeChannel, FakeChannel] {
  const a = new FakeChannel(delayMs);
  const b = new FakeChannel(delayMs);
  a.twin = b;
  b.twin = a;
  return [a, b];
}
