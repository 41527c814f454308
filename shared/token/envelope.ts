import nacl from 'tweetnacl';
import { MeshsyncError } from '../errors.js';
import { concatBytes, fromBase32, toBase32, utf8 } from '../crypto/bytes.js';
import { deviceIdFromKey, sign, verify, type Identity } from '../crypto/identity.js';
import type { DeviceId } from '../ids.js';
import { ByteReader, ByteWriter } from './binary.js';

/**
 * Token layout (PROTOCOL.md, "Tokens"): version | kind | expiry (u32 Unix seconds) | body |
 * signer's public key (32) | Ed25519 signature (64) over a label and every byte before it.
 * Printed as upper-case base32 without padding, which QR codes carry in alphanumeric mode.
 */
export const TOKEN_VERSION = 1;
export const TOKEN_KINDS = { invite: 1, offer: 2, answer: 3 } as const;
export type TokenKind = keyof typeof TOKEN_KINDS;
/** Largest token accepted, in bytes (QR version 40 holds about 1.8 kB). */
export const MAX_TOKEN_BYTES = 1200;
const SIGNATURE_LABEL = utf8('meshsync/token');
const TRAILER = nacl.sign.publicKeyLength + nacl.sign.signatureLength;

/** What every token carries besides its body. */
export interface TokenHeader {
  kind: TokenKind;
  /** Expiry, ms since the epoch (whole seconds on the wire). */
  expiresAt: number;
  signer: { device: DeviceId; publicKey: Uint8Array };
}

/** Signs `body` into a printable token. `expiresAt` is rounded down to whole seconds. */
export function sealToken(
  kind: TokenKind,
  expiresAt: number,
  body: (w: ByteWriter) => void,
  identity: Identity,
): string {
  const w = new ByteWriter()
    .u8(TOKEN_VERSION)
    .u8(TOKEN_KINDS[kind])
    .u32(Math.floor(expiresAt / 1000));
  body(w);
  w.bytes(identity.publicKey);
  const unsigned = w.finish();
  const signature = sign(identity, concatBytes(SIGNATURE_LABEL, unsigned));
  const bytes = concatBytes(unsigned, signature);
  if (bytes.length > MAX_TOKEN_BYTES) {
    throw new MeshsyncError(
      'INVALID_VALUE',
      `token of ${bytes.length} bytes over ${MAX_TOKEN_BYTES}`,
    );
  }
  return toBase32(bytes);
}

/** Token text as people paste it: spaces, dashes and line breaks are ignored, case too. */
export function tokenBytes(text: string): Uint8Array {
  if (typeof text !== 'string') throw new MeshsyncError('BAD_TOKEN', 'a token is text');
  const compact = text.replace(/[\s-]/g, '');
  if (compact.length === 0) throw new MeshsyncError('BAD_TOKEN', 'empty token');
  if (compact.length > Math.ceil((MAX_TOKEN_BYTES * 8) / 5)) {
    throw new MeshsyncError('BAD_TOKEN', `token of ${compact.length} characters is too long`);
  }
  return fromBase32(compact, 'BAD_TOKEN', 'token');
}

/**
 * Checks a token's layout, signature and expiry, then reads its body with `body` (which must
 * consume it exactly). Throws BAD_TOKEN, TOKEN_SIGNATURE or TOKEN_EXPIRED; nothing is used
 * from a token that fails.
 */
export function openToken<T>(
  text: string,
  kind: TokenKind,
  now: number,
  body: (r: ByteReader) => T,
): TokenHeader & T {
  const bytes = tokenBytes(text);
  const r = new ByteReader(bytes.subarray(0, Math.max(0, bytes.length - TRAILER)), `${kind} token`);
  if (bytes.length < 6 + TRAILER) r.fail('length', `${bytes.length} bytes is too short`);
  const version = r.u8('version');
  if (version !== TOKEN_VERSION) r.fail('version', `unsupported version ${version}`);
  const kindByte = r.u8('kind');
  if (kindByte !== TOKEN_KINDS[kind]) {
    const found = Object.entries(TOKEN_KINDS).find(([, b]) => b === kindByte)?.[0];
    r.fail(
      'kind',
      found ? `this is an ${found} token, not an ${kind} token` : `unknown kind ${kindByte}`,
    );
  }
  const expiresAt = r.u32('expiry') * 1000;
  const content = body(r);
  r.end();
  const publicKey = bytes.slice(bytes.length - TRAILER, bytes.length - nacl.sign.signatureLength);
  const signature = bytes.slice(bytes.length - nacl.sign.signatureLength);
  const signed = concatBytes(
    SIGNATURE_LABEL,
    bytes.subarray(0, bytes.length - nacl.sign.signatureLength),
  );
  if (!verify(publicKey, signed, signature)) {
    throw new MeshsyncError(
      'TOKEN_SIGNATURE',
      `${kind} token: signature does not match its content`,
    );
  }
  if (expiresAt <= now) {
    throw new MeshsyncError(
      'TOKEN_EXPIRED',
      `${kind} token expired at ${new Date(expiresAt).toISOString()}`,
      {
        details: { expiresAt },
      },
    );
  }
  return { kind, expiresAt, signer: { device: deviceIdFromKey(publicKey), publicKey }, ...content };
}
