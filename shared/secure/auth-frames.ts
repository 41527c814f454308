import { MeshsyncError, isErrorCode, type ErrorCode } from '../errors.js';
import { FRAME_FORMAT, LIMITS } from '../limits.js';
import { fromUtf8, utf8 } from '../crypto/bytes.js';

/**
 * Frames of the secure layer (PROTOCOL.md, "Secure session"). Same 8-byte header as sync
 * frames ("MS", format, type, u32 body length) with type bytes 16 and up, and binary bodies.
 */
export const AUTH_TYPES = { hello: 16, proof: 17, refuse: 18, sealed: 19, confirm: 20 } as const;
export type AuthFrameType = keyof typeof AUTH_TYPES;

export const AUTH_VERSION = 1;
export const EPH_BYTES = 32;
export const NONCE_BYTES = 32;
export const INVITE_ID_BYTES = 8;
/** Most bytes of a proof box: key, signature, two bindings of up to 64 bytes, a name, overhead. */
export const MAX_PROOF_BYTES = 512;
export const MAX_REFUSE_BYTES = 600;

/** Codes a peer may send in a refusal; anything else arriving is reported as AUTH_FAILED. */
const REFUSAL_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'AUTH_FAILED',
  'AUTH_UNKNOWN_DEVICE',
  'AUTH_REVOKED',
  'AUTH_MITM',
  'TOKEN_USED',
  'TOKEN_EXPIRED',
  'PROTOCOL_VERSION',
  'BAD_FRAME',
  'TIMEOUT',
]);

/** The first message of each side: version, mode, an ephemeral X25519 key and a fresh nonce. */
export interface AuthHello {
  version: number;
  /** Present when this side joins with an invite: which invite (not its secret). */
  invite: Uint8Array | null;
  eph: Uint8Array;
  nonce: Uint8Array;
}

const HEADER = 8;

function frame(type: AuthFrameType, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER + body.length);
  out.set([0x4d, 0x53, FRAME_FORMAT, AUTH_TYPES[type]]);
  new DataView(out.buffer).setUint32(4, body.length);
  out.set(body, HEADER);
  return out;
}

/** The secure-layer type of a frame, or undefined when it is not one. */
export function authFrameType(bytes: Uint8Array): AuthFrameType | undefined {
  if (bytes.length < HEADER || bytes[0] !== 0x4d || bytes[1] !== 0x53) return undefined;
  for (const [name, byte] of Object.entries(AUTH_TYPES)) {
    if (bytes[3] === byte) return name as AuthFrameType;
  }
  return undefined;
}

/** The body of a secure-layer frame of `type`, after checking header and length. */
export function authBody(bytes: Uint8Array, type: AuthFrameType, maxBody: number): Uint8Array {
  if (bytes.length > HEADER + maxBody) {
    throw new MeshsyncError('FRAME_TOO_LARGE', `${type} frame of ${bytes.length} bytes`);
  }
  if (authFrameType(bytes) !== type || bytes[2] !== FRAME_FORMAT) {
    throw new MeshsyncError('AUTH_FAILED', `expected a ${type} frame`);
  }
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4);
  if (length !== bytes.length - HEADER) {
    throw new MeshsyncError('BAD_FRAME', `${type} body length does not match the frame`);
  }
  return bytes.subarray(HEADER);
}

export function encodeAuthHello(hello: AuthHello): Uint8Array {
  const invite = hello.invite ?? new Uint8Array(0);
  const body = new Uint8Array(3 + EPH_BYTES + NONCE_BYTES + invite.length);
  body[0] = hello.version;
  body[1] = hello.invite ? 1 : 0;
  body[2] = invite.length;
  body.set(hello.eph, 3);
  body.set(hello.nonce, 3 + EPH_BYTES);
  body.set(invite, 3 + EPH_BYTES + NONCE_BYTES);
  return frame('hello', body);
}

export function decodeAuthHello(bytes: Uint8Array): AuthHello {
  const body = authBody(bytes, 'hello', 3 + EPH_BYTES + NONCE_BYTES + INVITE_ID_BYTES);
  const version = body[0] ?? 0;
  if (version !== AUTH_VERSION) {
    throw new MeshsyncError('PROTOCOL_VERSION', `secure session version ${version}`);
  }
  const joining = body[1];
  const inviteLength = body[2];
  const expected = joining === 1 ? INVITE_ID_BYTES : 0;
  if ((joining !== 0 && joining !== 1) || inviteLength !== expected) {
    throw new MeshsyncError('BAD_FRAME', 'hello: bad mode');
  }
  if (body.length !== 3 + EPH_BYTES + NONCE_BYTES + expected) {
    throw new MeshsyncError('BAD_FRAME', 'hello: bad length');
  }
  return {
    version,
    invite: joining === 1 ? body.slice(3 + EPH_BYTES + NONCE_BYTES) : null,
    eph: body.slice(3, 3 + EPH_BYTES),
    nonce: body.slice(3 + EPH_BYTES, 3 + EPH_BYTES + NONCE_BYTES),
  };
}

/** Wraps an already sealed proof or confirmation box. */
export function encodeAuthBox(type: 'proof' | 'confirm', box: Uint8Array): Uint8Array {
  return frame(type, box);
}

export function encodeRefusal(code: ErrorCode, message: string): Uint8Array {
  const text = message.slice(0, LIMITS.maxErrorMessage);
  return frame('refuse', utf8(JSON.stringify({ code, message: text })));
}

/** The error a refusal frame carries; unknown codes and malformed bodies become AUTH_FAILED. */
export function decodeRefusal(bytes: Uint8Array): MeshsyncError {
  try {
    const body: unknown = JSON.parse(fromUtf8(authBody(bytes, 'refuse', MAX_REFUSE_BYTES)));
    if (typeof body === 'object' && body !== null) {
      const { code, message } = body as { code?: unknown; message?: unknown };
      if (isErrorCode(code) && REFUSAL_CODES.has(code) && typeof message === 'string') {
        return new MeshsyncError(code, `refused by the other side: ${message.slice(0, 500)}`);
      }
    }
  } catch {
    // fall through: a refusal we cannot read is still a refusal
  }
  return new MeshsyncError('AUTH_FAILED', 'refused by the other side (unreadable refusal)');
}
