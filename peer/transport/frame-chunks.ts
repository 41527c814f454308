import { MeshsyncError } from '../../shared/errors.js';

/**
 * Frames larger than a pipe's message limit travel as chunks: every chunk but the last is
 * marked "more follows". Pure helpers, shared by the transports that need them (the signaling
 * relay, WebRTC data channels).
 */
export function* chunksOf(frame: Uint8Array, size: number): Generator<[Uint8Array, boolean]> {
  if (!(size >= 1)) throw new MeshsyncError('INVALID_VALUE', 'chunk size must be at least 1');
  if (frame.length === 0) {
    yield [frame, true];
    return;
  }
  for (let at = 0; at < frame.length; at += size) {
    const end = Math.min(frame.length, at + size);
    yield [frame.subarray(at, end), end === frame.length];
  }
}

/** Puts chunks back together; refuses (FRAME_TOO_LARGE) a frame that grows past the limit. */
export class ChunkAssembler {
  private parts: Uint8Array[] = [];
  private size = 0;

  constructor(private readonly maxFrameBytes: number) {}

  /** Adds a chunk (copied); returns the whole frame after its last chunk, else null. */
  add(chunk: Uint8Array, last: boolean): Uint8Array | null {
    this.size += chunk.length;
    if (this.size > this.maxFrameBytes) {
      this.parts = [];
      this.size = 0;
      throw new MeshsyncError('FRAME_TOO_LARGE', `frame over ${this.maxFrameBytes} bytes`);
    }
    if (last && this.parts.length === 0) {
      this.size = 0;
      return chunk.slice();
    }
    this.parts.push(chunk.slice());
    if (!last) return null;
    const frame = new Uint8Array(this.size);
    let at = 0;
    for (const part of this.parts) {
      frame.set(part, at);
      at += part.length;
    }
    this.parts = [];
    this.size = 0;
    return frame;
  }
}
