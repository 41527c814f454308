import { MeshsyncError } from '../../shared/errors.js';
import type { AnnouncedLimits } from '../../shared/signaling/messages.js';
import { TokenBucket } from '../../shared/signaling/token-bucket.js';

interface Queued {
  data: string | Uint8Array;
  size: number;
  resolve: () => void;
  reject: (err: MeshsyncError) => void;
}

/** Bytes waiting in the socket above which the pacer waits for it to drain. */
const HIGH_WATER_BYTES = 1024 * 1024;

/**
 * Sends a client's messages no faster than the server allows (half its announced rates), so a
 * client is paced rather than refused, and waits while the socket's own buffer
 * is full. One queue keeps signals and relay frames in the order they were given.
 */
export class Pacer {
  private readonly queue: Queued[] = [];
  private readonly messages: TokenBucket;
  private readonly bytes: TokenBucket;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(
    limits: AnnouncedLimits,
    private readonly socket: {
      readonly bufferedAmount: number;
      send(data: string | Uint8Array): void;
    },
    private readonly now: () => number = Date.now,
  ) {
    // Half the announced rates, and half the rate as burst: the server allows twice the rate as
    // burst, so messages that the network delays and delivers together still fit.
    const rate = Math.max(1, limits.messagesPerSecond / 2);
    this.messages = new TokenBucket(rate, rate, now());
    const byteRate = Math.max(1, limits.bytesPerSecond / 2);
    // The burst must still hold the largest message the server takes.
    this.bytes = new TokenBucket(byteRate, Math.max(byteRate, limits.maxPayloadBytes), now());
  }

  /** Resolves once the message is handed to the socket. */
  send(data: string | Uint8Array): Promise<void> {
    if (this.stopped)
      return Promise.reject(new MeshsyncError('CLOSED', 'signaling connection closed'));
    // Text messages are JSON of ASCII fields: one byte per character.
    const size = data.length;
    return new Promise((resolve, reject) => {
      this.queue.push({ data, size, resolve, reject });
      if (this.queue.length === 1 && this.timer === undefined) this.drain();
    });
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Fails everything queued (the socket is gone). */
  stop(reason: string): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    const error = new MeshsyncError('CLOSED', reason);
    for (const item of this.queue.splice(0)) item.reject(error);
  }

  private drain(): void {
    this.timer = undefined;
    while (!this.stopped && this.queue.length > 0) {
      const item = this.queue[0]!;
      const now = this.now();
      const wait =
        this.socket.bufferedAmount > HIGH_WATER_BYTES
          ? 5
          : Math.max(this.messages.waitMs(1, now), this.bytes.waitMs(item.size, now));
      if (wait > 0) {
        this.timer = setTimeout(() => this.drain(), wait);
        return;
      }
      this.messages.take(1, now);
      this.bytes.take(item.size, now);
      this.queue.shift();
      try {
        this.socket.send(item.data);
        item.resolve();
      } catch (err) {
        item.reject(new MeshsyncError('CLOSED', 'signaling socket refused a send', { cause: err }));
      }
    }
  }
}
