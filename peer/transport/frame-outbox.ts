import { MeshsyncError } from '../../shared/errors.js';
import {
  MAX_CLOSE_REASON_BYTES,
  MAX_TUNNEL_BODY_BYTES,
  MAX_TUNNEL_RECORDS,
  RECORD_HEADER_BYTES,
  SEQ_BYTES,
} from '../../shared/direct/tunnel-body.js';

/**
 * Frames waiting to go out in HTTP tunnel bodies (both ends of the tunnel use one), their bytes
 * counted until delivered, so `push` gives backpressure above a high-water mark.
 */
export class FrameOutbox {
  private frames: Uint8Array[] = [];
  private bytes = 0;
  private readonly drained = new Set<() => void>();

  constructor(
    private readonly maxFrameBytes: number,
    private readonly highWaterBytes: number,
  ) {}

  get length(): number {
    return this.frames.length;
  }

  /** Queues a copy of `frame`; resolves once what is undelivered is at or below high water. */
  push(frame: Uint8Array): Promise<void> {
    if (frame.length > this.maxFrameBytes) {
      return Promise.reject(
        new MeshsyncError(
          'FRAME_TOO_LARGE',
          `frame of ${frame.length} bytes over ${this.maxFrameBytes}`,
        ),
      );
    }
    this.frames.push(frame.slice());
    this.bytes += frame.length;
    if (this.bytes <= this.highWaterBytes) return Promise.resolve();
    return new Promise((resolve) => this.drained.add(resolve));
  }

  /** The queued frames that fit one tunnel body (at least one), with room for a goodbye. */
  take(): Uint8Array[] {
    let size = SEQ_BYTES + 2 * RECORD_HEADER_BYTES + MAX_CLOSE_REASON_BYTES;
    let count = 0;
    for (const frame of this.frames) {
      const next = size + RECORD_HEADER_BYTES + frame.length;
      if (count > 0 && (next > MAX_TUNNEL_BODY_BYTES || count + 1 >= MAX_TUNNEL_RECORDS)) break;
      size = next;
      count++;
    }
    return this.frames.splice(0, count);
  }

  /** Taken frames reached the other side: their bytes no longer hold senders back. */
  delivered(frames: readonly Uint8Array[]): void {
    for (const frame of frames) this.bytes -= frame.length;
    if (this.bytes <= this.highWaterBytes) this.release();
  }

  /** Drops what is queued (a broken or refused tunnel). */
  clear(): void {
    this.frames = [];
  }

  /** Lets every waiting sender go on (the tunnel closed, or drained). */
  release(): void {
    for (const resolve of this.drained) resolve();
    this.drained.clear();
  }
}
