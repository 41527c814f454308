import { MeshsyncError, toMeshsyncError } from '../../shared/errors.js';
import type { Unsubscribe } from '../../shared/emitter.js';
import { LIMITS } from '../../shared/limits.js';
import type { ChannelBinding } from '../../shared/secure/proof.js';
import { ChunkAssembler, chunksOf } from '../transport/frame-chunks.js';
import { TransportEmitter } from '../transport/transport-emitter.js';
import type { Transport, TransportEvents } from '../transport/transport-port.js';
import {
  chunkMessage,
  closeMessage,
  MESSAGE_HEADER_BYTES,
  readChannelMessage,
} from './channel-messages.js';
import { fflateCodec, inflateStart, type FrameCodec } from './deflate.js';
import type { DataChannelLike, DataChannelTuning, RtcConnection } from './rtc-port.js';
import type { SdpFacts } from './sdp-facts.js';

export interface DataChannelTransportOptions {
  /** The reliable, ordered channel (open or still opening). */
  channel: DataChannelLike;
  /** From `sdpFacts(local, remote)` of the connection. */
  facts: SdpFacts;
  tuning: DataChannelTuning;
  /** Compresses frames (`tuning.compress`). @default fflate's (isomorphic) */
  codec?: FrameCodec;
  /** The connection, if the transport owns it: watched, and closed after the channel. */
  connection?: RtcConnection;
  /** A connection `disconnected` this long counts as lost. @default 5000 */
  disconnectGraceMs?: number;
  /** How long a close waits for queued data to leave before it cuts. @default 5000 */
  closeDrainMs?: number;
  now?: () => number;
}

/** What went through, for status and benchmarks. */
export interface DataChannelStats {
  framesSent: number;
  framesReceived: number;
  /** Frame bytes handed to `send` (before compression). */
  frameBytesSent: number;
  /** Bytes put on the channel (after compression, with chunk headers). */
  wireBytesSent: number;
  wireBytesReceived: number;
  deflatedFramesSent: number;
}

/** How long compression stays on after a send had to wait for the channel. */
const SLOW_WINDOW_MS = 1000;
const POLL_MS = 50;
/** How much of a compressed frame's start is inflated for a 'frameStart' hint (a page's head). */
const HINT_BYTES = 256;

/**
 * A `Transport` over a WebRTC data channel: frames of up to the protocol's limit, chunked below
 * the negotiated max-message-size; sends wait while the channel's buffer is above the
 * implementation's high-water mark; frames are deflated while the channel is the bottleneck
 * (`tuning.compress`). `close()` sends a goodbye after the last frame and lets the buffer drain
 * before closing the channel, so nothing in flight is lost; the other side's transport closes
 * with the reason. Create it as soon as the channel exists: frames are held from then on.
 */
export class DataChannelTransport implements Transport {
  readonly kind = 'webrtc';
  readonly streaming = true;
  readonly binding: ChannelBinding;
  readonly stats: DataChannelStats = {
    framesSent: 0,
    framesReceived: 0,
    frameBytesSent: 0,
    wireBytesSent: 0,
    wireBytesReceived: 0,
    deflatedFramesSent: 0,
  };
  private readonly emitter = new TransportEmitter();
  private readonly assembler = new ChunkAssembler(LIMITS.maxFrameBytes);
  private readonly channel: DataChannelLike;
  private readonly tuning: DataChannelTuning;
  private readonly codec: FrameCodec;
  private readonly chunkBytes: number;
  private readonly now: () => number;
  private readonly drained = new Set<() => void>();
  private readonly offs: Unsubscribe[] = [];
  private tail: Promise<void> = Promise.resolve();
  /** Frames handed to `send` whose sending has not finished. */
  private queued = 0;
  private partialDeflated: boolean | null = null;
  private lastWaitAt = Number.NEGATIVE_INFINITY;
  private disconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private pollTimer: ReturnType<typeof setInterval> | undefined;
  private closed = false;
  /** Closed by an error or a lost channel: queued sends fail instead of going out. */
  private aborted = false;
  private released = false;

  constructor(private readonly options: DataChannelTransportOptions) {
    this.channel = options.channel;
    this.tuning = options.tuning;
    this.codec = options.codec ?? fflateCodec;
    this.binding = options.facts.binding;
    this.now = options.now ?? Date.now;
    const messageBytes = Math.min(options.tuning.messageBytes, options.facts.maxMessageBytes);
    this.chunkBytes = messageBytes - MESSAGE_HEADER_BYTES;
    if (!(this.chunkBytes >= 1024)) {
      throw new MeshsyncError('INVALID_OPTION', `data-channel messages of ${messageBytes} bytes`);
    }
    if (this.channel.binaryType !== undefined) this.channel.binaryType = 'arraybuffer';
    this.channel.bufferedAmountLowThreshold = options.tuning.lowWaterBytes;
    const listeners: Array<[string, (event: unknown) => void]> = [
      ['message', (event) => this.onMessage(event)],
      ['close', () => this.lost('the data channel closed without a goodbye')],
      ['error', (event) => this.lost(`data channel error: ${errorText(event)}`)],
      ['bufferedamountlow', () => this.wake()],
    ];
    for (const [type, listener] of listeners) {
      this.channel.addEventListener(type, listener);
      this.offs.push(() => this.channel.removeEventListener(type, listener));
    }
    const connection = options.connection;
    if (connection) this.offs.push(connection.onStateChange((state) => this.onState(state)));
  }

  send(frame: Uint8Array): Promise<void> {
    if (this.closed)
      return Promise.reject(new MeshsyncError('CLOSED', 'webrtc transport is closed'));
    // Frames handed over before a close() still go, ahead of the goodbye. With nothing queued,
    // the frame goes at once rather than a microtask later (an ask must not wait behind work).
    const next =
      this.queued === 0 ? this.sendNow(frame) : this.tail.then(() => this.sendNow(frame));
    this.queued++;
    this.tail = next.then(
      () => void this.queued--,
      () => void this.queued--,
    );
    return next;
  }

  close(reason = 'closed'): void {
    if (this.closed) return;
    this.shut({ reason });
    void this.goodbye(reason);
  }

  on<K extends keyof TransportEvents>(
    event: K,
    listener: (payload: TransportEvents[K]) => void,
  ): Unsubscribe {
    return this.emitter.on(event, listener);
  }

  private async sendNow(frame: Uint8Array): Promise<void> {
    if (frame.length > LIMITS.maxFrameBytes) {
      throw new MeshsyncError(
        'FRAME_TOO_LARGE',
        `frame of ${frame.length} bytes over ${LIMITS.maxFrameBytes}`,
      );
    }
    this.assertOpen();
    const packed = this.shouldDeflate() ? this.codec.deflate(frame) : null;
    const payload = packed ?? frame;
    for (const [chunk, last] of chunksOf(payload, this.chunkBytes)) {
      // The channel's state is read once per frame and after each wait: native stacks answer
      // these getters from another thread. A channel closing meanwhile fails the send itself.
      if (this.channel.bufferedAmount > this.tuning.highWaterBytes) {
        await this.drain();
        this.assertOpen();
      }
      const message = chunkMessage(chunk, last, packed !== null);
      try {
        this.channel.send(message);
      } catch (err) {
        const error = new MeshsyncError('CLOSED', `data channel send failed: ${String(err)}`, {
          cause: err,
        });
        this.fail(error);
        throw error;
      }
      this.stats.wireBytesSent += message.length;
    }
    this.stats.framesSent++;
    this.stats.frameBytesSent += frame.length;
    if (packed) this.stats.deflatedFramesSent++;
  }

  private assertOpen(): void {
    if (this.aborted) throw new MeshsyncError('CLOSED', 'webrtc transport is closed');
    if (this.channel.readyState !== 'open') {
      throw new MeshsyncError('CLOSED', `data channel is ${this.channel.readyState}`);
    }
  }

  private shouldDeflate(): boolean {
    if (this.tuning.compress !== 'auto') return this.tuning.compress === 'always';
    return (
      this.channel.bufferedAmount >= this.tuning.lowWaterBytes ||
      this.now() - this.lastWaitAt < SLOW_WINDOW_MS
    );
  }

  /** Waits until the buffer is below the low-water mark (the event, or a poll as a fallback). */
  private drain(): Promise<void> {
    this.lastWaitAt = this.now();
    this.pollTimer ??= setInterval(() => {
      const low = this.channel.bufferedAmount <= this.tuning.lowWaterBytes;
      if (low || this.aborted || this.channel.readyState !== 'open') this.wake();
    }, POLL_MS);
    return new Promise((resolve) => this.drained.add(resolve));
  }

  private wake(): void {
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    for (const resolve of this.drained) resolve();
    this.drained.clear();
  }

  private onMessage(event: unknown): void {
    if (this.closed) return;
    try {
      const bytes = bytesOf((event as { data?: unknown }).data);
      this.stats.wireBytesReceived += bytes.length;
      const message = readChannelMessage(bytes);
      if (message.op === 'close') {
        this.aborted = true;
        this.wake();
        this.shut({ reason: `closed by the other side: ${message.reason}` });
        this.release();
        return;
      }
      if (this.partialDeflated !== null && this.partialDeflated !== message.deflated) {
        throw new MeshsyncError('BAD_FRAME', 'chunks of one frame disagree on compression');
      }
      const first = this.partialDeflated === null;
      this.partialDeflated = message.last ? null : message.deflated;
      const whole = this.assembler.add(message.data, message.last);
      if (first && !whole) this.hintStart(message.data, message.deflated);
      if (!whole) return;
      const frame = message.deflated ? this.codec.inflate(whole, LIMITS.maxFrameBytes) : whole;
      this.stats.framesReceived++;
      this.emitter.deliver(frame);
    } catch (err) {
      this.fail(toMeshsyncError(err, 'BAD_FRAME'));
    }
  }

  /** The first piece of a frame still arriving: its start, inflated if need be, as a hint. */
  private hintStart(piece: Uint8Array, deflated: boolean): void {
    const start = deflated ? inflateStart(piece, HINT_BYTES) : piece;
    if (start) this.emitter.starting(start);
  }

  private onState(state: string): void {
    if (state === 'failed' || state === 'closed') {
      this.lost(`the peer connection ${state}`);
    } else if (state === 'disconnected') {
      this.disconnectTimer ??= setTimeout(
        () => this.lost('the peer connection stayed disconnected'),
        this.options.disconnectGraceMs ?? 5000,
      );
    } else if (state === 'connected') {
      clearTimeout(this.disconnectTimer);
      this.disconnectTimer = undefined;
    }
  }

  /** The channel or connection went away under us. */
  private lost(reason: string): void {
    this.fail(new MeshsyncError('CLOSED', reason));
  }

  /** Closes with an error: tells the other side why (if the channel still carries), then cuts. */
  private fail(error: MeshsyncError): void {
    this.aborted = true;
    this.wake();
    if (this.closed) return this.release();
    this.shut({ reason: error.message, error });
    void this.goodbye(error.message);
  }

  private shut(payload: TransportEvents['close']): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.disconnectTimer);
    for (const off of this.offs.splice(0)) off();
    // Queued sends still go out; a channel that closes meanwhile ends them.
    this.channel.addEventListener('close', () => {
      this.aborted = true;
      this.wake();
    });
    this.emitter.closed(payload);
  }

  /** Sends the goodbye after everything queued, waits for the buffer to drain, then closes. */
  private async goodbye(reason: string): Promise<void> {
    await this.tail;
    if (this.channel.readyState === 'open') {
      try {
        this.channel.send(closeMessage(reason));
        const deadline = this.now() + (this.options.closeDrainMs ?? 5000);
        while (
          this.channel.readyState === 'open' &&
          this.channel.bufferedAmount > 0 &&
          this.now() < deadline
        ) {
          await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        }
      } catch {
        // The channel broke meanwhile; closing is all that is left.
      }
    }
    this.release();
  }

  /** Closes the channel and the connection it came with (once). */
  private release(): void {
    if (this.released) return;
    this.released = true;
    try {
      this.channel.close();
    } catch {
      // Already closed.
    }
    this.options.connection?.close();
  }
}

function errorText(event: unknown): string {
  const error = (event as { error?: unknown } | undefined)?.error;
  return String(error ?? event);
}

/** A message's bytes (a view the receiver may keep), or BAD_FRAME for text. */
function bytesOf(data: unknown): Uint8Array {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data))
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new MeshsyncError('BAD_FRAME', 'text message on a binary data channel');
}
