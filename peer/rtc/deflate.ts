import { deflateSync, Inflate } from 'fflate';
import { MeshsyncError } from '../../shared/errors.js';

/**
 * Frame compression for slow channels: `length (u32 BE) · raw DEFLATE (RFC 1951)`, so any
 * implementation (fflate, zlib, the browser's DecompressionStream) reads it. A codec is part of
 * the RTC port: fflate's below is the isomorphic default, Node ports use zlib (several times
 * faster). Inflating is always bounded by the declared length, itself within the frame limit.
 */
export interface FrameCodec {
  /** The compressed form of `frame`, or null when compressing would not save a tenth. */
  deflate(frame: Uint8Array): Uint8Array | null;
  /** The frame back; BAD_FRAME or FRAME_TOO_LARGE when the data lies about it. */
  inflate(data: Uint8Array, maxFrameBytes: number): Uint8Array;
}

/** Frames below this are sent as they are. */
export const MIN_DEFLATE_BYTES = 512;
/** fflate is fed this much at a time, so it never makes more than ~1000 times this too much. */
const SLICE = 4 * 1024;

/** `length · body` when `body` saves a tenth of `length`, else null. */
export function withLength(length: number, body: Uint8Array): Uint8Array | null {
  if (body.length + 4 > length * 0.9) return null;
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, length);
  out.set(body, 4);
  return out;
}

/** The declared length of a compressed frame, checked against the limit. */
export function declaredLength(data: Uint8Array, maxFrameBytes: number): number {
  if (data.length < 5) throw new MeshsyncError('BAD_FRAME', 'compressed frame too short');
  const length = new DataView(data.buffer, data.byteOffset, 4).getUint32(0);
  if (length > maxFrameBytes) {
    throw new MeshsyncError('FRAME_TOO_LARGE', `compressed frame of ${length} bytes declared`);
  }
  return length;
}

export function inflatedWrong(length: number, cause?: unknown): MeshsyncError {
  return new MeshsyncError('BAD_FRAME', `compressed frame does not inflate to ${length} bytes`, {
    cause,
  });
}

/** The isomorphic codec (fflate, pure JavaScript). */
export const fflateCodec: FrameCodec = {
  deflate(frame) {
    if (frame.length < MIN_DEFLATE_BYTES) return null;
    return withLength(frame.length, deflateSync(frame, { level: 1 }));
  },
  inflate(data, maxFrameBytes) {
    const length = declaredLength(data, maxFrameBytes);
    const out = new Uint8Array(length);
    let size = 0;
    let over = false;
    const inflater = new Inflate((chunk) => {
      if (size + chunk.length > length) over = true;
      else out.set(chunk, size);
      size += chunk.length;
    });
    try {
      for (let at = 4; at < data.length && !over; at += SLICE) {
        const end = Math.min(data.length, at + SLICE);
        inflater.push(data.subarray(at, end), end === data.length);
      }
    } catch (err) {
      throw inflatedWrong(length, err);
    }
    if (over || size !== length) throw inflatedWrong(length);
    return out;
  },
};

/**
 * The first `bytes` (or fewer) of the frame a compressed frame's first piece starts, inflated
 * from as little of it as that takes; null if they do not come out. A hint only (the whole
 * frame is inflated and checked when it has arrived), so it never throws.
 */
export function inflateStart(data: Uint8Array, bytes: number): Uint8Array | null {
  if (data.length < 5) return null;
  const out = new Uint8Array(bytes);
  let size = 0;
  const inflater = new Inflate((chunk) => {
    const take = Math.min(chunk.length, bytes - size);
    out.set(chunk.subarray(0, take), size);
    size += take;
  });
  try {
    for (let at = 4; at < data.length && size < bytes; at += 1024) {
      inflater.push(data.subarray(at, Math.min(data.length, at + 1024)), false);
    }
  } catch {
    return null;
  }
  return size === 0 ? null : out.subarray(0, size);
}
