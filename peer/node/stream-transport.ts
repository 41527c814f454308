import type { Readable, Writable } from 'node:stream';
import { TransportEmitter } from '../transport/transport-emitter.js';
import { MeshsyncError } from '../../shared/errors.js';
import { LIMITS } from '../../shared/limits.js';
import type { Transport, TransportEvents } from '../transport/transport-port.js';

export interface StreamTransportOptions {
  /** Refuse (and close on) a frame larger than this. @default LIMITS.maxFrameBytes */
  maxFrameBytes?: number;
  /** A name for status. @default 'stream' */
  kind?: string;
}

/**
 * A transport over a byte stream (a child process's stdio, a socket, an SSH pipe): each frame
 * is sent as a 4-byte big-endian length and the frame. Writes honour the stream's backpressure.
 */
export class StreamTransport implements Transport {
  readonly kind: string;
  readonly streaming = true;
  private readonly events = new TransportEmitter();
  readonly maxFrameBytes: number;
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private closed = false;

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    options: StreamTransportOptions = {},
  ) {
    this.kind = options.kind ?? 'stream';
    this.maxFrameBytes = options.maxFrameBytes ?? LIMITS.maxFrameBytes;
    input.on('data', (chunk: Buffer) => this.onData(chunk));
    input.on('end', () => this.shut('stream ended'));
    input.on('error', (err) => this.shut(`input error: ${err.message}`));
    output.on('error', (err) => this.shut(`output error: ${err.message}`));
  }

  async send(frame: Uint8Array): Promise<void> {
    if (this.closed) throw new MeshsyncError('CLOSED', 'stream transport is closed');
    const header = Buffer.alloc(4);
    header.writeUInt32BE(frame.length);
    this.output.write(header);
    if (!this.output.write(frame)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.output.off('drain', done);
          this.output.off('close', done);
          resolve();
        };
        this.output.on('drain', done);
        this.output.on('close', done);
      });
    }
  }

  close(reason = 'closed'): void {
    if (this.closed) return;
    this.output.end();
    this.shut(reason);
  }

  on<K extends keyof TransportEvents>(
    event: K,
    listener: (payload: TransportEvents[K]) => void,
  ): () => void {
    return this.events.on(event, listener);
  }

  private onData(chunk: Buffer): void {
    this.buffered.push(chunk);
    this.bufferedBytes += chunk.length;
    while (!this.closed && this.bufferedBytes >= 4) {
      const length = this.peekLength();
      if (length > this.maxFrameBytes) {
        const error = new MeshsyncError(
          'FRAME_TOO_LARGE',
          `incoming frame of ${length} bytes exceeds ${this.maxFrameBytes}`,
        );
        this.shut(error.message, error);
        return;
      }
      if (this.bufferedBytes < 4 + length) return; // wait for the rest; no copying meanwhile
      const all = this.buffered.length === 1 ? this.buffered[0]! : Buffer.concat(this.buffered);
      const frame = new Uint8Array(all.subarray(4, 4 + length)); // a copy the receiver owns
      const rest = all.subarray(4 + length);
      this.buffered = rest.length > 0 ? [rest] : [];
      this.bufferedBytes = rest.length;
      this.events.deliver(frame);
    }
  }

  /** The length prefix at the front of the buffered bytes (which may span chunks). */
  private peekLength(): number {
    const first = this.buffered[0]!;
    if (first.length >= 4) return first.readUInt32BE(0);
    const head = Buffer.concat(this.buffered).subarray(0, 4);
    return head.readUInt32BE(0);
  }

  private shut(reason: string, error?: MeshsyncError): void {
    if (this.closed) return;
    this.closed = true;
    this.input.destroy();
    this.events.closed(error ? { reason, error } : { reason });
  }
}
