import { deflateSync, Inflate } from 'fflate';
import { MeshsyncError } from '../../shared/errors.js';

/**
 * Frame compression for slow channels: raw DEFLATE (RFC 1951) behind the frame's length, so any
 * implementation (fflate, zlib, the browser's DecompressionStream) can read it. Inflating is
 * bounded: the input goes in small slices and stops as soon as the output passes the declared
 * length, so a crafted frame cannot make the receiver allocate more than a little over it.
 */
const SLICE = 1024;
/** Frames below this are sent as they are. */
export const MIN_DEFLATE_BYTES = 512;

/** `u32 length | deflated`, or null when deflating would not save a tenth. */
export function deflateFrame(frame: Uint8Array): Uint8Array | null {
  if (frame.length < MIN_DEFLATE_BYTES) return null;
  const packed = deflateSync(frame, { level: 1 });
  if (packed.length + 4 > frame.length * 0.9) return null;
  const out = new Uint8Array(4 + packed.length);
  new DataView(out.buffer).setUint32(0, frame.length);
  out.set(packed, 4);
  return out;
}

/** The frame back from `deflateFrame`'s output; BAD_FRAME or FRAME_TOO_LARGE when it lies. */
export function inflateFrame(data: Uint8Array, maxFrameBytes: number): Uint8Array {
  if (data.length < 5) throw new MeshsyncError('BAD_FRAME', 'compressed frame too short');
  const length = new DataView(data.buffer, data.byteOffset, 4).getUint32(0);
  if (length > maxFrameBytes) {
    throw new MeshsyncError('FRAME_TOO_LARGE', `compressed frame of ${length} bytes declared`);
  }
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
    throw new MeshsyncError('BAD_FRAME', 'compressed frame does not inflate', { cause: err });
  }
  if (over || size !== length) {
    throw new MeshsyncError('BAD_FRAME', `compressed frame inflates to other than ${length} bytes`);
  }
  return out;
}
