import type { Unsubscribe } from '../../shared/emitter.js';
import { MeshsyncError } from '../../shared/errors.js';
import { LIMITS } from '../../shared/limits.js';
import { encodeTunnelBody, type TunnelBody } from '../../shared/direct/tunnel-body.js';
import { FrameOutbox } from '../transport/frame-outbox.js';
import { TransportEmitter } from '../transport/transport-emitter.js';
import type { Transport, TransportEvents } from '../transport/transport-port.js';

export interface TunnelTiming {
  /** A held poll is answered empty after this. */
  pollMs: number;
  /** With no request and no held poll for this long, the tunnel is closed (TIMEOUT). */
  idleTimeoutMs: number;
  /** `send()` resolves once at most this many bytes wait for a poll. @default 2097152 */
  highWaterBytes?: number;
}

/** How long a closed tunnel waits for the client to fetch its goodbye. */
const GOODBYE_GRACE_MS = 5000;

/** Answers a held poll with a body (status 200); a no-op once its request is gone. */
export type PollAnswer = (body: Uint8Array) => void;

/**
 * The server end of an HTTP tunnel: frames from the client's send requests are delivered in
 * order of their sequence numbers (any other number is refused, and nothing changes); frames for
 * the client wait for its poll, which is held until there are some or the poll window ends.
 * Knows nothing of HTTP: the tunnel server feeds it parsed bodies and answer callbacks.
 */
export class TunnelTransport implements Transport {
  readonly kind = 'http';
  readonly streaming = true;
  readonly maxFrameBytes = LIMITS.maxFrameBytes;
  private readonly emitter = new TransportEmitter();
  private readonly outbox: FrameOutbox;
  private goodbye: string | null = null;
  private nextSend = 0;
  private nextPoll = 0;
  private held: { seq: number; answer: PollAnswer } | null = null;
  private pollTimer: ReturnType<typeof setTimeout> | undefined;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private ended = false;

  constructor(
    readonly id: string,
    private readonly timing: TunnelTiming,
    /** Called once when the tunnel is finished with and can be forgotten. */
    private readonly onEnd: () => void,
  ) {
    this.outbox = new FrameOutbox(this.maxFrameBytes, timing.highWaterBytes ?? 2 * 1024 * 1024);
    this.touch();
  }

  send(frame: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new MeshsyncError('CLOSED', 'http tunnel is closed'));
    const queued = this.outbox.push(frame);
    this.flush();
    return queued;
  }

  /** Closes now; what is queued goes to the client's next poll, then a goodbye. */
  close(reason = 'closed'): void {
    if (this.closed) return;
    this.goodbye = reason;
    this.shut({ reason });
    this.flush();
    this.touch();
  }

  on<K extends keyof TransportEvents>(
    event: K,
    listener: (payload: TransportEvents[K]) => void,
  ): Unsubscribe {
    return this.emitter.on(event, listener);
  }

  /**
   * A send request's body. Throws FRAME_REJECTED for a sequence number other than the next one
   * (replayed, reordered; nothing changes), and CLOSED once this side has closed.
   */
  receive(body: TunnelBody): void {
    this.touch();
    if (body.seq !== this.nextSend) {
      throw new MeshsyncError(
        'FRAME_REJECTED',
        `send request ${body.seq} where ${this.nextSend} was due (replayed or reordered)`,
      );
    }
    this.nextSend++;
    if (this.closed) {
      // Closed here first: nothing more is delivered, and once the client knows, the tunnel goes.
      this.end();
      if (body.close === null) throw new MeshsyncError('CLOSED', 'the tunnel is closed');
      return;
    }
    for (const frame of body.frames) this.emitter.deliver(frame);
    if (body.close !== null) {
      this.shut({ reason: body.close || 'closed by the other side' });
      this.end();
    }
  }

  /** A poll request: held until there is something to send. Throws FRAME_REJECTED like `receive`. */
  poll(seq: number, answer: PollAnswer): void {
    this.touch();
    if (seq !== this.nextPoll) {
      throw new MeshsyncError(
        'FRAME_REJECTED',
        `poll ${seq} where ${this.nextPoll} was due (replayed or reordered)`,
      );
    }
    this.nextPoll++;
    // A client keeps one poll outstanding: a new one means the old one's requester gave up.
    if (this.held) this.answer([], null);
    this.held = { seq, answer };
    this.pollTimer = setTimeout(() => this.answer([], null), this.timing.pollMs);
    this.flush();
  }

  /** The held poll's request went away unanswered (the client aborted it). */
  pollGone(answer: PollAnswer): void {
    if (this.held?.answer !== answer) return;
    clearTimeout(this.pollTimer);
    this.held = null;
    this.touch();
  }

  /** Forgets the tunnel at once (the server stops): a held poll gets the goodbye. */
  end(reason = 'closed'): void {
    this.close(reason); // may end the tunnel itself, when a held poll takes the goodbye
    if (this.ended) return;
    if (this.held) this.answer([], this.goodbye ?? reason);
    this.ended = true;
    clearTimeout(this.idleTimer);
    this.onEnd();
  }

  private flush(): void {
    if (!this.held || (this.outbox.length === 0 && this.goodbye === null)) return;
    // Once answered, the frames are the client's: nothing resends them.
    const frames = this.outbox.take();
    const close = this.outbox.length === 0 ? this.goodbye : null;
    this.answer(frames, close);
    this.outbox.delivered(frames);
    if (close !== null) this.end();
  }

  private answer(frames: Uint8Array[], close: string | null): void {
    const held = this.held;
    if (!held) return;
    this.held = null;
    clearTimeout(this.pollTimer);
    this.touch();
    held.answer(encodeTunnelBody(held.seq, frames, close));
  }

  /**
   * Restarts the idle clock (a request came, or a held poll was answered). Once closed, the
   * client gets a short while to fetch the goodbye: a live client always has a poll under way.
   */
  private touch(): void {
    if (this.ended) return;
    clearTimeout(this.idleTimer);
    const { idleTimeoutMs } = this.timing;
    const wait = this.closed ? Math.min(idleTimeoutMs, GOODBYE_GRACE_MS) : idleTimeoutMs;
    this.idleTimer = setTimeout(() => this.idle(), wait);
  }

  private idle(): void {
    if (this.held) return this.touch();
    if (this.closed) return this.end();
    const error = new MeshsyncError(
      'TIMEOUT',
      `no request on the tunnel for ${this.timing.idleTimeoutMs} ms`,
    );
    this.shut({ reason: error.message, error });
    this.end(error.message);
  }

  private shut(payload: TransportEvents['close']): void {
    if (this.closed) return;
    this.closed = true;
    if (this.goodbye === null) this.outbox.clear();
    this.outbox.release();
    this.emitter.closed(payload);
  }
}
