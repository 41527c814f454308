import nacl from 'tweetnacl';
import { concatBytes, utf8 } from './bytes.js';

/**
 * A 32-byte key or tag derived from `parts` under a purpose `label`: SHA-512 (tweetnacl's hash)
 * over the length-prefixed label and parts, truncated. Length prefixes keep distinct inputs
 * distinct; the label keeps keys for different purposes unrelated. Secrets here are 32 random
 * bytes, so a plain hash is a sound derivation (no password stretching is needed).
 */
export function derive(label: string, ...parts: readonly Uint8Array[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  for (const part of [utf8(label), ...parts]) chunks.push(lengthPrefix(part.length), part);
  return nacl.hash(concatBytes(...chunks)).slice(0, 32);
}

function lengthPrefix(n: number): Uint8Array {
  return new Uint8Array([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}
