import { MeshsyncError } from '../../shared/errors.js';
import { fromUtf8, utf8 } from '../../shared/crypto/bytes.js';

/**
 * What travels in one data-channel message: `op (1) | payload`. A frame goes as one or more
 * chunks (MORE..., LAST), each flagged DEFLATED when the frame was compressed; CLOSE says
 * goodbye with a reason, after every frame before it (the channel is ordered), so closing
 * never loses data in flight and either side learns why the other left.
 */
export const OP_MORE = 0x01;
export const OP_LAST = 0x02;
export const OP_CLOSE = 0x03;
export const FLAG_DEFLATED = 0x80;
export const MESSAGE_HEADER_BYTES = 1;
/** Longest close reason sent, in bytes (longer ones are cut). */
export const MAX_CLOSE_REASON_BYTES = 200;

export type ChannelMessage =
  | { op: 'chunk'; last: boolean; deflated: boolean; data: Uint8Array }
  | { op: 'close'; reason: string };

export function chunkMessage(
  data: Uint8Array,
  last: boolean,
  deflated: boolean,
): Uint8Array<ArrayBuffer> {
  const message = new Uint8Array(MESSAGE_HEADER_BYTES + data.length);
  message[0] = (last ? OP_LAST : OP_MORE) | (deflated ? FLAG_DEFLATED : 0);
  message.set(data, MESSAGE_HEADER_BYTES);
  return message;
}

export function closeMessage(reason: string): Uint8Array<ArrayBuffer> {
  // A UTF-16 unit is at most 3 bytes of UTF-8, so a third of the limit in units always fits.
  const bytes = utf8(reason.slice(0, Math.floor(MAX_CLOSE_REASON_BYTES / 3)));
  const message = new Uint8Array(MESSAGE_HEADER_BYTES + bytes.length);
  message[0] = OP_CLOSE;
  message.set(bytes, MESSAGE_HEADER_BYTES);
  return message;
}

/** Reads one message; BAD_FRAME for an unknown op or a close reason that is not UTF-8. */
export function readChannelMessage(message: Uint8Array): ChannelMessage {
  const head = message[0];
  if (head === undefined) throw new MeshsyncError('BAD_FRAME', 'empty data-channel message');
  const data = message.subarray(MESSAGE_HEADER_BYTES);
  const op = head & ~FLAG_DEFLATED;
  const deflated = (head & FLAG_DEFLATED) !== 0;
  // Only a frame's last chunk may be empty (an empty frame).
  if ((op === OP_MORE && data.length > 0) || op === OP_LAST) {
    return { op: 'chunk', last: op === OP_LAST, deflated, data };
  }
  if (head === OP_CLOSE && data.length <= MAX_CLOSE_REASON_BYTES) {
    return { op: 'close', reason: fromUtf8(data, 'BAD_FRAME') };
  }
  throw new MeshsyncError('BAD_FRAME', `bad data-channel message (op 0x${head.toString(16)})`);
}
