import { fromUtf8, utf8 } from '../crypto/bytes.js';
import { MeshsyncError } from '../errors.js';
import { LIMITS } from '../limits.js';

/**
 * The body of every HTTP tunnel request and poll answer (PROTOCOL.md section 23):
 * `seq (u32 BE) · record*`, each record `type (u8) · length (u32 BE) · payload`. Type 1 carries
 * one frame, type 2 a goodbye (UTF-8 reason), which must come last. Pure encode/parse pair.
 */
export interface TunnelBody {
  /** The request's sequence number (a poll answer repeats the poll's). */
  seq: number;
  frames: Uint8Array[];
  /** The sender's goodbye reason, when it closes the tunnel. */
  close: string | null;
}

export const RECORD_FRAME = 1;
export const RECORD_CLOSE = 2;
export const SEQ_BYTES = 4;
export const RECORD_HEADER_BYTES = 5;
/** Most records in one body. */
export const MAX_TUNNEL_RECORDS = 4096;
/** Longest goodbye reason, in UTF-8 bytes. */
export const MAX_CLOSE_REASON_BYTES = 200;
/** Largest body either side sends or accepts: a frame at the protocol's limit fits with room. */
export const MAX_TUNNEL_BODY_BYTES = LIMITS.maxFrameBytes + 4096;
const MAX_SEQ = 0xffff_ffff;

/** Encodes a body; throws INVALID_VALUE when it would break the limits a receiver checks. */
export function encodeTunnelBody(
  seq: number,
  frames: readonly Uint8Array[],
  close: string | null = null,
): Uint8Array<ArrayBuffer> {
  if (!Number.isInteger(seq) || seq < 0 || seq > MAX_SEQ) {
    throw new MeshsyncError('INVALID_VALUE', `tunnel sequence ${seq} is not a u32`);
  }
  const reason = close === null ? null : closeReasonBytes(close);
  const records = frames.length + (reason ? 1 : 0);
  if (records > MAX_TUNNEL_RECORDS) {
    throw new MeshsyncError('INVALID_VALUE', `${records} records (at most ${MAX_TUNNEL_RECORDS})`);
  }
  let size = SEQ_BYTES + records * RECORD_HEADER_BYTES + (reason?.length ?? 0);
  for (const frame of frames) {
    if (frame.length > LIMITS.maxFrameBytes) {
      throw new MeshsyncError('INVALID_VALUE', `frame of ${frame.length} bytes over the limit`);
    }
    size += frame.length;
  }
  if (size > MAX_TUNNEL_BODY_BYTES) {
    throw new MeshsyncError('INVALID_VALUE', `tunnel body of ${size} bytes over the limit`);
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, seq);
  let at = SEQ_BYTES;
  const put = (type: number, payload: Uint8Array): void => {
    out[at] = type;
    view.setUint32(at + 1, payload.length);
    out.set(payload, at + RECORD_HEADER_BYTES);
    at += RECORD_HEADER_BYTES + payload.length;
  };
  for (const frame of frames) put(RECORD_FRAME, frame);
  if (reason) put(RECORD_CLOSE, reason);
  return out;
}

/**
 * Parses a body strictly: FRAME_TOO_LARGE for a body or frame over the limits, BAD_FRAME for
 * anything else out of shape (truncated, trailing bytes, unknown record type, too many records,
 * a record after the goodbye, a goodbye reason too long or not UTF-8). Frames are copies.
 */
export function parseTunnelBody(body: Uint8Array): TunnelBody {
  if (body.length > MAX_TUNNEL_BODY_BYTES) {
    throw new MeshsyncError('FRAME_TOO_LARGE', `tunnel body of ${body.length} bytes`);
  }
  if (body.length < SEQ_BYTES) throw bad('truncated sequence number');
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const seq = view.getUint32(0);
  const frames: Uint8Array[] = [];
  let close: string | null = null;
  let at = SEQ_BYTES;
  while (at < body.length) {
    if (close !== null) throw bad('a record after the goodbye');
    if (frames.length >= MAX_TUNNEL_RECORDS) throw bad(`over ${MAX_TUNNEL_RECORDS} records`);
    if (body.length - at < RECORD_HEADER_BYTES) throw bad('truncated record header');
    const type = body[at]!;
    const length = view.getUint32(at + 1);
    at += RECORD_HEADER_BYTES;
    if (type === RECORD_FRAME && length > LIMITS.maxFrameBytes) {
      throw new MeshsyncError('FRAME_TOO_LARGE', `frame of ${length} bytes in a tunnel body`);
    }
    if (length > body.length - at) throw bad('truncated record');
    const payload = body.subarray(at, at + length);
    at += length;
    if (type === RECORD_FRAME) frames.push(payload.slice());
    else if (type === RECORD_CLOSE) {
      if (length > MAX_CLOSE_REASON_BYTES) throw bad('goodbye reason too long');
      close = fromUtf8(payload, 'BAD_FRAME');
    } else throw bad(`unknown record type ${type}`);
  }
  return { seq, frames, close };
}

/** The reason as UTF-8, cut to the limit on a character boundary. */
function closeReasonBytes(reason: string): Uint8Array {
  return utf8(truncateUtf8(reason, MAX_CLOSE_REASON_BYTES));
}

/** `text` cut to at most `maxBytes` of UTF-8, on a character boundary. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (utf8(text).length <= maxBytes) return text;
  let out = '';
  let size = 0;
  for (const char of text) {
    size += utf8(char).length;
    if (size > maxBytes) break;
    out += char;
  }
  return out;
}

function bad(message: string): MeshsyncError {
  return new MeshsyncError('BAD_FRAME', `tunnel body: ${message}`);
}
