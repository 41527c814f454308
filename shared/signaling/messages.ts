import { isErrorCode, MeshsyncError, type ErrorCode } from '../errors.js';
import type { DeviceId } from '../ids.js';
import { int, literal, obj, arr, str, type Schema, fail, isPlainObject } from '../schema.js';
import { MAX_SIGNAL_BYTES } from '../secure/signal-seal.js';
import { ROOM_ID_PATTERN } from '../secure/room.js';

/**
 * The signaling protocol's text messages (JSON, one per WebSocket message, `t` names the kind).
 * Pure encode/parse pairs, validated field by field: the server parses what clients send, the
 * client parses what the server sends, and neither trusts the other. PROTOCOL.md section 21.
 */
export const SIGNALING_VERSION = 1;

/** Device ids the server stamps: derived from a device key (16 base32 characters). */
export const SIGNALING_DEVICE_PATTERN = /^[a-z2-7]{16}$/;
/** Longest sealed signal (base64url of the largest sealed payload). */
export const MAX_SEALED_CHARS = Math.ceil(((MAX_SIGNAL_BYTES + 24 + 16 + 104) * 4) / 3);
/** Longest text message either side sends; the server's `maxPayloadBytes` may only be larger. */
export const MAX_TEXT_MESSAGE = MAX_SEALED_CHARS + 512;

/** WebSocket close codes the server uses. */
export const CLOSE_CODES = {
  /** Graceful shutdown: reconnect later. */
  goingAway: 1001,
  /** Flooding or too many bad messages. */
  policy: 1008,
  /** A message over `maxPayloadBytes` (closed by ws itself). */
  tooBig: 1009,
  /** Joined no room in time. */
  idle: 4000,
} as const;

/** The limits a server announces, so clients pace themselves instead of being refused. */
export interface AnnouncedLimits {
  maxPayloadBytes: number;
  messagesPerSecond: number;
  bytesPerSecond: number;
  maxRoomsPerConnection: number;
  maxMembersPerRoom: number;
}

const roomId = str({ min: 43, max: 43, pattern: ROOM_ID_PATTERN });
const deviceId = str({ min: 16, max: 16, pattern: SIGNALING_DEVICE_PATTERN }) as Schema<DeviceId>;
const b64 = (n: number): Schema<string> => str({ min: n, max: n, pattern: /^[A-Za-z0-9_-]+$/ });
const sealed = str({ min: 1, max: MAX_SEALED_CHARS, pattern: /^[A-Za-z0-9_-]+$/ });
const count = int({ min: 1, max: 2 ** 31 });

// ---- client to server ----

export type ClientMessage =
  | { t: 'join'; room: string; key: string; proof: string; sig: string }
  | { t: 'leave'; room: string }
  | { t: 'signal'; room: string; to: DeviceId; data: string };

const CLIENT_SCHEMAS: Record<ClientMessage['t'], Schema<ClientMessage>> = {
  join: obj({ t: literal('join'), room: roomId, key: b64(43), proof: b64(86), sig: b64(86) }),
  leave: obj({ t: literal('leave'), room: roomId }),
  signal: obj({ t: literal('signal'), room: roomId, to: deviceId, data: sealed }),
};

// ---- server to client ----

export type ServerMessage =
  | { t: 'hello'; v: number; challenge: string; heartbeatMs: number; limits: AnnouncedLimits }
  | { t: 'joined'; room: string; self: DeviceId; members: DeviceId[] }
  | { t: 'left'; room: string; reason: string }
  | { t: 'online'; room: string; device: DeviceId }
  | { t: 'offline'; room: string; device: DeviceId }
  | { t: 'signal'; room: string; from: DeviceId; data: string }
  | { t: 'error'; code: ErrorCode; message: string; room?: string; to?: DeviceId }
  | { t: 'shutdown'; retryMs: number };

const reason = str({ max: 200 });
const SERVER_SCHEMAS: Record<ServerMessage['t'], Schema<ServerMessage>> = {
  hello: obj({
    t: literal('hello'),
    v: int({ min: 1, max: 65535 }),
    challenge: b64(43),
    heartbeatMs: count,
    limits: obj({
      maxPayloadBytes: count,
      messagesPerSecond: count,
      bytesPerSecond: count,
      maxRoomsPerConnection: count,
      maxMembersPerRoom: count,
    }),
  }),
  joined: obj({
    t: literal('joined'),
    room: roomId,
    self: deviceId,
    members: arr(deviceId, { max: 10_000 }),
  }),
  left: obj({ t: literal('left'), room: roomId, reason }),
  online: obj({ t: literal('online'), room: roomId, device: deviceId }),
  offline: obj({ t: literal('offline'), room: roomId, device: deviceId }),
  signal: obj({ t: literal('signal'), room: roomId, from: deviceId, data: sealed }),
  error: obj(
    {
      t: literal('error'),
      // A code this version does not know still arrives, as REMOTE_ERROR.
      code: (v): ErrorCode => (isErrorCode(v) ? v : 'REMOTE_ERROR'),
      message: str({ max: 600 }),
    },
    { room: roomId, to: deviceId },
  ),
  shutdown: obj({ t: literal('shutdown'), retryMs: int({ min: 0, max: 3_600_000 }) }),
};

function parseWith<M extends { t: string }>(
  text: unknown,
  schemas: Record<string, Schema<M>>,
  maxChars: number,
): M {
  if (typeof text !== 'string') throw new MeshsyncError('BAD_MESSAGE', 'expected a text message');
  if (text.length > maxChars) {
    throw new MeshsyncError('FRAME_TOO_LARGE', `message of ${text.length} chars over ${maxChars}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new MeshsyncError('BAD_MESSAGE', 'message is not JSON');
  }
  if (!isPlainObject(value)) fail('', 'object', value);
  const kind = value.t;
  if (typeof kind !== 'string' || !Object.hasOwn(schemas, kind)) {
    throw new MeshsyncError('UNKNOWN_MESSAGE', `unknown message kind ${JSON.stringify(kind)}`, {
      details: { kind: typeof kind === 'string' ? kind.slice(0, 32) : typeof kind },
    });
  }
  return schemas[kind]!(value, '');
}

/** Parses what a client sent: BAD_MESSAGE, UNKNOWN_MESSAGE or FRAME_TOO_LARGE when it is wrong. */
export function parseClientMessage(text: unknown): ClientMessage {
  return parseWith(text, CLIENT_SCHEMAS, MAX_TEXT_MESSAGE);
}

/** Parses what the server sent, with the same strictness. */
export function parseServerMessage(text: unknown): ServerMessage {
  return parseWith(text, SERVER_SCHEMAS, 1024 * 1024);
}

export function encodeMessage(message: ClientMessage | ServerMessage): string {
  return JSON.stringify(message);
}
