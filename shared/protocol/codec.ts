import { MeshsyncError } from '../errors.js';
import { FRAME_FORMAT, LIMITS } from '../limits.js';
import { MESSAGE_TYPES, type Message, type MessageType } from './messages.js';
import { BODY_SCHEMAS } from './schemas.js';
import { encodeRow } from './wire-row.js';

/**
 * Frame layout (PROTOCOL.md): 8-byte header, then the body as UTF-8 JSON.
 *   0-1  magic 0x4d 0x53 ("MS")
 *   2    frame format (1)
 *   3    message type
 *   4-7  body length, unsigned 32-bit big-endian
 */
export const HEADER_BYTES = 8;
const MAGIC_0 = 0x4d;
const MAGIC_1 = 0x53;

const TYPE_BY_BYTE = new Map<number, MessageType>(
  Object.entries(MESSAGE_TYPES).map(([name, byte]) => [byte, name as MessageType]),
);

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Eight ASCII characters: encoded in front of a body, their bytes become the header. */
const HEADER_ROOM = ' '.repeat(HEADER_BYTES);

/** Builds a frame from a message type and its body already serialised as JSON. */
export function encodeFrame(type: MessageType, bodyJson: string): Uint8Array {
  // One encode() into a buffer with room for the header, no copy: a page is a megabyte or two
  // (and on Node 20, encodeInto() is ~15x slower for large strings).
  const frame = encoder.encode(HEADER_ROOM + bodyJson);
  frame[0] = MAGIC_0;
  frame[1] = MAGIC_1;
  frame[2] = FRAME_FORMAT;
  frame[3] = MESSAGE_TYPES[type];
  new DataView(frame.buffer, frame.byteOffset, HEADER_BYTES).setUint32(
    4,
    frame.length - HEADER_BYTES,
  );
  return frame;
}

/** Encodes a message. Callers own the message's validity; decode checks everything. */
export function encodeMessage(message: Message): Uint8Array {
  if (message.type === 'changes') {
    const { req, push, from, to, head, more, rows } = message;
    return encodeChangesFrame({ req, push, from, to, head, more }, rows.map(encodeRow));
  }
  const { type, ...body } = message;
  return encodeFrame(type, JSON.stringify(body));
}

/**
 * Encodes a `changes` page from rows already serialised one by one (the page builder measures
 * each row's size as it goes, so the rows are stringified exactly once).
 */
export function encodeChangesFrame(
  head: { req: number; push: boolean; from: number; to: number; head: number; more: boolean },
  rows: readonly string[] | string,
): Uint8Array {
  // `rows`: the rows serialised one by one, or already as one JSON array.
  const rowsJson = typeof rows === 'string' ? rows : `[${rows.join(',')}]`;
  const prefix = JSON.stringify(head);
  return encodeFrame('changes', `${prefix.slice(0, -1)},"rows":${rowsJson}}`);
}

/**
 * Best effort: the `req` of a frame that failed to decode, if its body is JSON with a valid
 * request id. Lets a peer fail the one request a malformed answer was meant for.
 */
export function peekRequestId(frame: Uint8Array): number | undefined {
  if (frame.length < HEADER_BYTES || frame.length > LIMITS.maxFrameBytes) return undefined;
  try {
    const body: unknown = JSON.parse(decoder.decode(frame.subarray(HEADER_BYTES)));
    const req =
      typeof body === 'object' && body !== null ? (body as { req?: unknown }).req : undefined;
    return typeof req === 'number' && Number.isSafeInteger(req) && req >= 1 && req <= 0xffffffff
      ? req
      : undefined;
  } catch {
    return undefined;
  }
}

/** What `peekPageHead` reads. */
export interface PageHead {
  req: number;
  from: number;
  to: number;
  more: boolean;
}

/** The start of an answered page's body as `encodeChangesFrame` writes it. */
const PAGE_HEAD =
  /^\{"req":(\d{1,10}),"push":false,"from":(\d{1,16}),"to":(\d{1,16}),"head":\d{1,16},"more":(true|false),"rows":\[/;
/** Enough of a body to hold that start. */
const PAGE_HEAD_BYTES = 128;

/**
 * A hint, before decoding: the request, range and `more` of a `changes` frame answering a pull,
 * read from the start of its body when written in the usual key order (else undefined). Nothing
 * is validated: whatever is done with it must hold up once the frame is decoded.
 */
export function peekPageHead(frame: Uint8Array): PageHead | undefined {
  if (frame.length < HEADER_BYTES || frame[3] !== MESSAGE_TYPES.changes) return undefined;
  let text = '';
  const end = Math.min(frame.length, HEADER_BYTES + PAGE_HEAD_BYTES);
  for (let at = HEADER_BYTES; at < end; at++) text += String.fromCharCode(frame[at]!);
  const match = PAGE_HEAD.exec(text);
  if (!match) return undefined;
  const [req, from, to] = [match[1], match[2], match[3]].map(Number) as [number, number, number];
  // Values a valid page could hold: whatever is asked for with them must be a valid request.
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || to < from) return undefined;
  return { req, from, to, more: match[4] === 'true' };
}

/** Reads a frame's type without decoding its body (for routing and logs). */
export function peekType(frame: Uint8Array): MessageType | undefined {
  return frame.length >= HEADER_BYTES ? TYPE_BY_BYTE.get(frame[3]!) : undefined;
}

/**
 * Decodes and validates one frame, field by field. Throws `MeshsyncError` with code
 * `FRAME_TOO_LARGE`, `BAD_FRAME`, `PROTOCOL_VERSION`, `UNKNOWN_MESSAGE` or `BAD_MESSAGE`;
 * it has no side effects, so a refused frame changes nothing.
 */
export function decodeFrame(
  frame: Uint8Array,
  maxFrameBytes: number = LIMITS.maxFrameBytes,
): Message {
  if (!(frame instanceof Uint8Array)) {
    throw new MeshsyncError('BAD_FRAME', 'frame must be bytes');
  }
  if (frame.length > maxFrameBytes) {
    throw new MeshsyncError(
      'FRAME_TOO_LARGE',
      `frame of ${frame.length} bytes exceeds ${maxFrameBytes}`,
      {
        details: { bytes: frame.length, limit: maxFrameBytes },
      },
    );
  }
  if (frame.length < HEADER_BYTES || frame[0] !== MAGIC_0 || frame[1] !== MAGIC_1) {
    throw new MeshsyncError('BAD_FRAME', 'not a meshsync frame (bad magic or too short)');
  }
  if (frame[2] !== FRAME_FORMAT) {
    throw new MeshsyncError('PROTOCOL_VERSION', `unsupported frame format ${frame[2]}`, {
      details: { format: frame[2] },
    });
  }
  const type = TYPE_BY_BYTE.get(frame[3]!);
  if (type === undefined) {
    throw new MeshsyncError('UNKNOWN_MESSAGE', `unknown message type ${frame[3]}`, {
      details: { type: frame[3] },
    });
  }
  const length = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(4);
  if (length !== frame.length - HEADER_BYTES) {
    throw new MeshsyncError('BAD_FRAME', `body length ${length} does not match frame`, {
      details: { length, actual: frame.length - HEADER_BYTES },
    });
  }
  let body: unknown;
  try {
    body = JSON.parse(decoder.decode(frame.subarray(HEADER_BYTES)));
  } catch (err) {
    throw new MeshsyncError('BAD_FRAME', `body is not UTF-8 JSON`, { cause: err });
  }
  const schema = BODY_SCHEMAS[type] as (v: unknown, path: string) => object;
  return { type, ...schema(body, type) } as Message;
}
