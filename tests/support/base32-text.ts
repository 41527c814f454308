const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Deterministic upper-case base32 text of `length` characters (token-like test input). */
export function base32(length: number, seed = length): string {
  let state = seed >>> 0 || 1;
  let out = '';
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    out += B32[(state >>> 16) % 32];
  }
  return out;
}
