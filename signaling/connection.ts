import type { WebSocket } from 'ws';
import type { ErrorCode } from '../shared/errors.js';
import type { DeviceId } from '../shared/ids.js';
import { encodeMessage, type ServerMessage } from '../shared/signaling/messages.js';
import { TokenBucket } from '../shared/signaling/token-bucket.js';
import type { SignalingLimits } from './limits.js';

/** One client's socket and what the server knows of it. */
export class Connection {
  /** Room id to the device this connection proved it speaks for in that room. */
  readonly rooms = new Map<string, DeviceId>();
  /** Answered the last heartbeat ping (or spoke since). */
  alive = true;
  idleTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly messages: TokenBucket;
  private readonly bytes: TokenBucket;
  private refusedWindow = 0;
  private refusedInWindow = 0;

  constructor(
    readonly id: number,
    readonly ws: WebSocket,
    readonly ip: string,
    readonly challenge: Uint8Array,
    limits: SignalingLimits,
    now: number,
  ) {
    this.messages = new TokenBucket(limits.messagesPerSecond, limits.messagesPerSecond * 2, now);
    this.bytes = new TokenBucket(limits.bytesPerSecond, limits.bytesPerSecond * 2, now);
  }

  /** Join attempts whose proofs failed. */
  failedJoins = 0;

  /** Charges one message of `size` bytes to the connection's rate; false when over. */
  charge(size: number, now: number): boolean {
    return this.messages.take(1, now) && this.bytes.take(size, now);
  }

  /** Charges `count` more messages' worth (for costly requests); false when over. */
  chargeExtra(count: number, now: number): boolean {
    return this.messages.take(count, now);
  }

  /**
   * Counts a refused message in the current second; returns how many were refused in it, so
   * the caller tells the client once per second and closes a connection that keeps flooding.
   */
  refused(now: number): number {
    const window = Math.floor(now / 1000);
    if (window !== this.refusedWindow) {
      this.refusedWindow = window;
      this.refusedInWindow = 0;
    }
    return ++this.refusedInWindow;
  }

  send(message: ServerMessage): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(encodeMessage(message));
  }

  sendError(code: ErrorCode, message: string, about: { room?: string; to?: DeviceId } = {}): void {
    this.send({ t: 'error', code, message, ...about });
  }
}
