import { MeshsyncError, type ErrorCode } from '../errors.js';

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const B64_INDEX = indexOf(B64URL);
const B32_INDEX = indexOf(B32 + B32.toLowerCase(), 32);

function indexOf(alphabet: string, modulo = alphabet.length): Int16Array {
  const index = new Int16Array(128).fill(-1);
  for (let i = 0; i < alphabet.length; i++) index[alphabet.charCodeAt(i)] = i % modulo;
  return index;
}

/** Packs bytes into `bits`-bit digits, most significant first, the last digit zero-padded. */
function pack(bytes: Uint8Array, bits: number, alphabet: string): string {
  let out = '';
  let buffer = 0;
  let held = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    held += 8;
    while (held >= bits) {
      held -= bits;
      out += alphabet[(buffer >> held) & ((1 << bits) - 1)];
    }
  }
  if (held > 0) out += alphabet[(buffer << (bits - held)) & ((1 << bits) - 1)];
  return out;
}

/** The inverse of `pack`; refuses foreign characters, impossible lengths and non-zero padding. */
function unpack(
  text: string,
  bits: number,
  index: Int16Array,
  code: ErrorCode,
  what: string,
): Uint8Array {
  const out = new Uint8Array(Math.floor((text.length * bits) / 8));
  let buffer = 0;
  let held = 0;
  let at = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const digit = c < 128 ? (index[c] ?? -1) : -1;
    if (digit < 0) throw new MeshsyncError(code, `${what}: bad character at ${i}`);
    buffer = ((buffer << bits) | digit) & 0xffff;
    held += bits;
    if (held >= 8) {
      held -= 8;
      out[at++] = (buffer >> held) & 0xff;
    }
  }
  if (held >= bits || (buffer & ((1 << held) - 1)) !== 0) {
    throw new MeshsyncError(code, `${what}: bad length or padding`);
  }
  return out;
}

/** RFC 4648 base64url without padding. */
export function toBase64url(bytes: Uint8Array): string {
  return pack(bytes, 6, B64URL);
}

/** Strict base64url (no padding, canonical last character); throws `code`. */
export function fromBase64url(
  text: string,
  code: ErrorCode = 'BAD_MESSAGE',
  what = 'base64url',
): Uint8Array {
  return unpack(text, 6, B64_INDEX, code, what);
}

/** RFC 4648 base32, upper case, without padding: the QR alphanumeric mode carries it densely. */
export function toBase32(bytes: Uint8Array): string {
  return pack(bytes, 5, B32);
}

/** Strict base32 (either case, no padding, canonical last character); throws `code`. */
export function fromBase32(
  text: string,
  code: ErrorCode = 'BAD_MESSAGE',
  what = 'base32',
): Uint8Array {
  return unpack(text, 5, B32_INDEX, code, what);
}

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Equality that takes the same time wherever the inputs differ (for secrets and MACs). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/** Byte-wise order, for putting two parties' values in one agreed order. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Strict UTF-8 decoding; throws `code` on malformed bytes. */
export function fromUtf8(bytes: Uint8Array, code: ErrorCode = 'BAD_MESSAGE'): string {
  try {
    return decoder.decode(bytes);
  } catch (err) {
    throw new MeshsyncError(code, 'malformed UTF-8', { cause: err });
  }
}
