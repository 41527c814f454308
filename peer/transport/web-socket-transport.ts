import type { Unsubscribe } from '../../shared/emitter.js';
import { MeshsyncError } from '../../shared/errors.js';
import { LIMITS } from '../../shared/limits.js';
import { truncateUtf8 } from '../../shared/direct/tunnel-body.js';
import { WS_OPEN, type WebSocketLike } from '../signaling/socket-port.js';
import { TransportEmitter } from './transport-emitter.js';
import type { Transport, TransportEvents } from './transport-port.js';

export interface WebSocketTransportOptions {
  /** Refuse (and close on) a frame larger than this. @default LIMITS.maxFrameBytes */
  maxFrameBytes?: number;
  /** `send()` resolves once the socket's buffer is at or below this. @default 1048576 */
  highWaterBytes?: number;
}

/** Close codes (RFC 6455) this transport sends and reads. */
const CLOSE = { normal: 1000, goingAway: 1001, unsupported: 1003, tooBig: 1009 } as const;
/** Longest close reason a WebSocket close frame carries, in UTF-8 bytes. */
const MAX_CLOSE_REASON_BYTES = 123;
/** How often a waiting `send()` looks at the buffer again (the W3C API has no drain event). */
const DRAIN_POLL_MS = 5;

/**
 * A `Transport` over an open WebSocket (`ws` in Node, the browser's own): one binary message per
 * frame. Text messages are refused (`BAD_FRAME`), as are frames over the limit
 * (`FRAME_TOO_LARGE`); either closes the socket. `close()` sends a normal close with the reason
 * after the frames already handed over, and the other side's transport closes with that reason.
 */
export class WebSocketTransport implements Transport {
  readonly kind = 'websocket';
  readonly streaming = true;
  readonly maxFrameBytes: number;
  private readonly highWaterBytes: number;
  private readonly emitter = new TransportEmitter();
  private readonly drained = new Set<() => void>();
  private drainTimer: ReturnType<typeof setInterval> | undefined;
  private lastError = '';
  private closed = false;

  constructor(
    private readonly socket: WebSocketLike,
    options: WebSocketTransportOptions = {},
  ) {
    this.maxFrameBytes = options.maxFrameBytes ?? LIMITS.maxFrameBytes;
    this.highWaterBytes = options.highWaterBytes ?? 1024 * 1024;
    socket.binaryType = 'arraybuffer';
    socket.onmessage = (event) => this.onMessage(event.data);
    socket.onerror = (event) => {
      this.lastError = socketErrorText(event);
    };
    socket.onclose = (event) => this.onClose(event.code, event.reason);
    if (socket.readyState !== WS_OPEN) {
      this.shut({
        reason: 'socket not open',
        error: new MeshsyncError('CLOSED', 'socket not open'),
      });
    }
  }

  send(frame: Uint8Array): Promise<void> {
    if (this.closed) {
      return Promise.reject(new MeshsyncError('CLOSED', 'websocket transport is closed'));
    }
    // The other side is closing: the close event (with its reason) is on its way, and a frame
    // read before it (a refusal, say) must not be overtaken by a send error. Dropped, as a
    // frame in flight would be.
    if (this.socket.readyState !== WS_OPEN) return Promise.resolve();
    if (frame.length > this.maxFrameBytes) {
      return Promise.reject(
        new MeshsyncError(
          'FRAME_TOO_LARGE',
          `frame of ${frame.length} bytes over ${this.maxFrameBytes}`,
        ),
      );
    }
    try {
      // A copy: `ws` may still hold the buffer after send() returned, and the caller may reuse it.
      this.socket.send(frame.slice());
    } catch (err) {
      const error = new MeshsyncError('CLOSED', `websocket send failed: ${String(err)}`, {
        cause: err,
      });
      this.fail(error, CLOSE.goingAway);
      return Promise.reject(error);
    }
    if (this.socket.bufferedAmount <= this.highWaterBytes) return Promise.resolve();
    return new Promise((resolve) => {
      this.drained.add(resolve);
      this.drainTimer ??= setInterval(() => {
        if (this.closed || this.socket.bufferedAmount <= this.highWaterBytes) this.wake();
      }, DRAIN_POLL_MS);
    });
  }

  close(reason = 'closed'): void {
    if (this.closed) return;
    this.shut({ reason });
    this.closeSocket(CLOSE.normal, reason);
  }

  on<K extends keyof TransportEvents>(
    event: K,
    listener: (payload: TransportEvents[K]) => void,
  ): Unsubscribe {
    return this.emitter.on(event, listener);
  }

  private onMessage(data: unknown): void {
    if (this.closed) return;
    let frame: Uint8Array;
    if (data instanceof ArrayBuffer) frame = new Uint8Array(data);
    else if (ArrayBuffer.isView(data)) {
      frame = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    } else {
      const error = new MeshsyncError('BAD_FRAME', 'a text message where a binary frame was due');
      return this.fail(error, CLOSE.unsupported);
    }
    if (frame.length > this.maxFrameBytes) {
      const error = new MeshsyncError(
        'FRAME_TOO_LARGE',
        `incoming frame of ${frame.length} bytes exceeds ${this.maxFrameBytes}`,
      );
      return this.fail(error, CLOSE.tooBig);
    }
    this.emitter.deliver(frame);
  }

  private onClose(code: number, reason: string): void {
    if (this.closed) return;
    if (code === CLOSE.normal || code === CLOSE.goingAway) {
      return this.shut({ reason: reason || 'closed by the other side' });
    }
    const detail = `websocket closed with ${code}${reason ? ` (${reason})` : ''}${
      this.lastError ? `: ${this.lastError}` : ''
    }`;
    const errorCode =
      code === CLOSE.tooBig
        ? 'FRAME_TOO_LARGE'
        : code === CLOSE.unsupported || code === 1002 || code === 1007
          ? 'BAD_FRAME'
          : 'CLOSED';
    this.shut({ reason: detail, error: new MeshsyncError(errorCode, detail) });
  }

  private fail(error: MeshsyncError, closeCode: number): void {
    this.shut({ reason: error.message, error });
    this.closeSocket(closeCode, error.message);
  }

  private closeSocket(code: number, reason: string): void {
    try {
      this.socket.close(code, truncateUtf8(reason, MAX_CLOSE_REASON_BYTES));
    } catch {
      // Already closing or closed: the other side learns it from the lost connection instead.
    }
  }

  private shut(payload: TransportEvents['close']): void {
    if (this.closed) return;
    this.closed = true;
    this.wake();
    this.emitter.closed(payload);
  }

  private wake(): void {
    clearInterval(this.drainTimer);
    this.drainTimer = undefined;
    for (const resolve of this.drained) resolve();
    this.drained.clear();
  }
}

/** What an error event of a WebSocket says (`ws` gives a message; browsers give nothing). */
export function socketErrorText(event: unknown): string {
  if (typeof event === 'object' && event !== null && 'message' in event) {
    return String(event.message);
  }
  return 'websocket error';
}
