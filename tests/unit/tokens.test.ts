import { describe, expect, it } from 'vitest';
import { fromBase32, toBase32, toBase64url } from '../../shared/crypto/bytes.js';
import { derive } from '../../shared/crypto/derive.js';
import { identityFromSeed } from '../../shared/crypto/identity.js';
import { roomKeys } from '../../shared/secure/room.js';
import { decodeInviteToken, encodeInviteToken } from '../../shared/token/invite-token.js';
import { SingleUse } from '../../shared/token/single-use.js';
import { codeOf } from '../support/codes.js';

// Known answers. Checked independently with Python (hashlib, and `cryptography`'s Ed25519):
// derive = SHA-512 over length-prefixed label and parts, truncated to 32 bytes; the token's
// signature verifies over b'meshsync/token' + every byte before it.
const seed = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const identity = identityFromSeed(seed);
const secret = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
const EXPIRES = 2_000_000_000_000;
const KAT_INVITE =
  'AEAXONMUACQKDIVDUSS2NJ5IVGVKXLFNV2XQA6NVKYXI7ZSU7FAHRMIS5CUYXJ4QD6CTVZUVX3L6BY4RBOWQJFTEGJIK7PNM2GHCJICOEVZHMP7MA36L2YKKZFYX44CGOUBLDAJRYYQEILSBU23KYTDNKFRLI4AHDJ2USRTBYIPQAR2GP5ABUOMJOF7SMDI';
const KAT_INVITE_ENDPOINTS =
  'AEAXONMUACQKDIVDUSS2NJ5IVGVKXLFNV2XQEAGAVAARIISUAX7IAAAAAAAAAAAAAAAAAAAAAAAQDO3ZWVLC5D7GKT4UA6FRCLUKTC5HSAPYKOXGSW7NPYHDSEF22BEWMSSJ7IOJXWXWZ4BCP67QZKQIYR43DVMJC26BS2WT4CQMRIK7N74EJZOVXZUA5R342HT6SV7HIKJKX5TA7TEOSUXXYLT3PZR4QB7JLHIE';
const NOW = 1_800_000_000_000;

describe('known-answer vectors', () => {
  it('derivation, device id, public key and room id', () => {
    expect(toBase64url(derive('meshsync/test', new Uint8Array([1, 2, 3])))).toBe(
      'tAt7bVpKrWxrJlHuEtB1l7iIsje3oomPcMHwvruaz28',
    );
    expect(toBase64url(identity.publicKey)).toBe('ebVWLo_mVPlAeLES6KmLp5AfhTrmlb7X4OORC60ElmQ');
    expect(identity.device).toBe('xey4f22biomaqq6x');
    expect(roomKeys(new Uint8Array(32).fill(7)).roomId).toBe(
      'PPCeJOXDtCeh8lKeS2VQILz4gkoQvJeqI5Ml85yMU04',
    );
  });

  it('invite tokens encode to the same text, and decode back', () => {
    expect(encodeInviteToken({ secret, expiresAt: EXPIRES }, identity)).toBe(KAT_INVITE);
    const endpoints = [
      { host: '192.168.1.20', port: 8788 },
      { host: 'fe80::1', port: 443, tls: true },
    ];
    expect(encodeInviteToken({ secret, expiresAt: EXPIRES, endpoints }, identity)).toBe(
      KAT_INVITE_ENDPOINTS,
    );
    const invite = decodeInviteToken(KAT_INVITE_ENDPOINTS, NOW);
    expect(invite.secret).toEqual(secret);
    expect(invite.expiresAt).toBe(EXPIRES);
    expect(invite.signer.device).toBe(identity.device);
    expect(invite.endpoints).toEqual(endpoints);
  });

  it('base32 and base64url against RFC 4648 test vectors', () => {
    const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
    expect(toBase32(enc('foobar'))).toBe('MZXW6YTBOI');
    expect(toBase32(enc('fooba'))).toBe('MZXW6YTB');
    expect(toBase32(enc('f'))).toBe('MY');
    expect(toBase64url(enc('foob'))).toBe('Zm9vYg');
    expect(new TextDecoder().decode(fromBase32('mzxw6ytboi'))).toBe('foobar');
    // Non-canonical trailing bits and impossible lengths are refused.
    expect(codeOf(() => fromBase32('MZ'))).toBe('BAD_MESSAGE');
    expect(codeOf(() => fromBase32('M'))).toBe('BAD_MESSAGE');
    expect(codeOf(() => fromBase32('MY======'))).toBe('BAD_MESSAGE');
  });
});

describe('tokens refuse tampering, truncation, expiry and reuse', () => {
  const bytes = fromBase32(KAT_INVITE_ENDPOINTS);

  it('every flipped bit of every byte is refused with a coded error', () => {
    const codes = new Set<string>();
    for (let i = 0; i < bytes.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const copy = bytes.slice();
        copy[i]! ^= bit;
        const code = codeOf(() => decodeInviteToken(toBase32(copy), NOW));
        expect(code, `byte ${i} bit ${bit}`).not.toBe('ok');
        expect(code).toMatch(/^(BAD_TOKEN|TOKEN_SIGNATURE|TOKEN_EXPIRED)$/);
        codes.add(code);
      }
    }
    expect(codes).toEqual(new Set(['BAD_TOKEN', 'TOKEN_SIGNATURE']));
  });

  it('every truncation, and any extra byte, is refused', () => {
    for (let n = 0; n < bytes.length; n++) {
      const code = codeOf(() => decodeInviteToken(toBase32(bytes.subarray(0, n)), NOW));
      expect(code, `first ${n} bytes`).toMatch(/^(BAD_TOKEN|TOKEN_SIGNATURE)$/);
    }
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expect(codeOf(() => decodeInviteToken(toBase32(longer), NOW))).toMatch(
      /^(BAD_TOKEN|TOKEN_SIGNATURE)$/,
    );
  });

  it('refuses an expired token, another kind, garbage text; accepts pasted spacing', () => {
    expect(codeOf(() => decodeInviteToken(KAT_INVITE, EXPIRES))).toBe('TOKEN_EXPIRED');
    expect(codeOf(() => decodeInviteToken(KAT_INVITE, EXPIRES + 1))).toBe('TOKEN_EXPIRED');
    expect(codeOf(() => decodeInviteToken(KAT_INVITE, EXPIRES - 1))).toBe('ok');
    expect(codeOf(() => decodeInviteToken('not a token!', NOW))).toBe('BAD_TOKEN');
    expect(codeOf(() => decodeInviteToken('', NOW))).toBe('BAD_TOKEN');
    expect(codeOf(() => decodeInviteToken('A'.repeat(5000), NOW))).toBe('BAD_TOKEN');
    const spaced = KAT_INVITE.toLowerCase().replace(/(.{8})/g, '$1 ');
    expect(decodeInviteToken(spaced, NOW).secret).toEqual(secret);
    const offer = bytes.slice();
    offer[1] = 2; // kind: offer
    expect(codeOf(() => decodeInviteToken(toBase32(offer), NOW))).toBe('BAD_TOKEN');
  });

  it('a token re-signed by another key is a different signer, not the inviter', () => {
    const mallory = identityFromSeed(new Uint8Array(32).fill(9));
    const forged = encodeInviteToken({ secret, expiresAt: EXPIRES }, mallory);
    expect(decodeInviteToken(forged, NOW).signer.device).not.toBe(identity.device);
    // Swapping in the inviter's key without its signature fails.
    const raw = fromBase32(forged);
    raw.set(identity.publicKey, raw.length - 96);
    expect(codeOf(() => decodeInviteToken(toBase32(raw), NOW))).toBe('TOKEN_SIGNATURE');
  });

  it('SingleUse accepts an id once until it expires', () => {
    let now = 0;
    const used = new SingleUse(() => now);
    used.consume('t1', 100);
    expect(codeOf(() => used.consume('t1', 100))).toBe('TOKEN_USED');
    now = 100;
    expect(used.has('t1')).toBe(false);
  });
});
