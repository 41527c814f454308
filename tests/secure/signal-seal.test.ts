import { describe, expect, it } from 'vitest';
import nacl from 'tweetnacl';
import { fromBase64url, toBase64url } from '../../shared/crypto/bytes.js';
import { derive } from '../../shared/crypto/derive.js';
import { generateIdentity } from '../../shared/crypto/identity.js';
import { roomJoinProof, roomKeys, verifyRoomJoin } from '../../shared/secure/room.js';
import {
  SignalOpener,
  openJsonSignal,
  sealJsonSignal,
  sealSignal,
} from '../../shared/secure/signal-seal.js';
import { codeOf } from '../support/codes.js';

const random = (n: number): Uint8Array => nacl.randomBytes(n);
const secret = random(32);
const alice = generateIdentity(random);
const bob = generateIdentity(random);
const carol = generateIdentity(random);
/** The seal key as every member derives it (PROTOCOL.md key schedule). */
const sealKey = (): Uint8Array => derive('meshsync/signal-seal', secret);

describe('signaling room', () => {
  it('derives a room id that reveals nothing and a join proof only secret holders make', () => {
    const keys = roomKeys(secret);
    expect(keys.roomId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(keys.roomId).not.toContain(toBase64url(secret).slice(0, 10));
    const challenge = random(32);
    const proof = roomJoinProof(keys, challenge);
    expect(verifyRoomJoin(keys.roomId, challenge, proof)).toBe(true);
    expect(verifyRoomJoin(keys.roomId, random(32), proof)).toBe(false);
    // Another mesh's keys, a proof for another room, or garbage all fail (and never throw).
    const other = roomKeys(random(32));
    expect(verifyRoomJoin(keys.roomId, challenge, roomJoinProof(other, challenge))).toBe(false);
    expect(verifyRoomJoin(other.roomId, challenge, proof)).toBe(false);
    expect(verifyRoomJoin('short', challenge, proof)).toBe(false);
    expect(verifyRoomJoin(keys.roomId, challenge, 'x'.repeat(86))).toBe(false);
    expect(verifyRoomJoin(keys.roomId, challenge, 42 as unknown as string)).toBe(false);
  });
});

describe('sealed signals', () => {
  const offer = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n' };

  it('opens for the addressee with the sender authenticated', () => {
    const sealed = sealJsonSignal(secret, alice, bob.device, offer);
    expect(sealed).not.toContain('offer');
    const opened = openJsonSignal(new SignalOpener(secret, bob.device), sealed);
    expect(opened.from).toBe(alice.device);
    expect(opened.value).toEqual(offer);
  });

  it('refuses another mesh, another addressee, any altered byte, old and replayed signals', () => {
    const sealed = sealJsonSignal(secret, alice, bob.device, offer);
    expect(codeOf(() => new SignalOpener(random(32), bob.device).open(sealed))).toBe('BAD_SEAL');
    // Carol is a member too (same secret) but the signal names Bob.
    expect(codeOf(() => new SignalOpener(secret, carol.device).open(sealed))).toBe('BAD_SEAL');
    const bytes = fromBase64url(sealed);
    for (let i = 0; i < bytes.length; i += 7) {
      const copy = bytes.slice();
      copy[i]! ^= 1;
      expect(codeOf(() => new SignalOpener(secret, bob.device).open(toBase64url(copy)))).toBe(
        'BAD_SEAL',
      );
    }
    const opener = new SignalOpener(secret, bob.device);
    opener.open(sealed);
    expect(codeOf(() => opener.open(sealed))).toBe('BAD_SEAL');
    const old = sealSignal(secret, alice, bob.device, new Uint8Array([1]), {
      now: Date.now() - 600_000,
    });
    expect(codeOf(() => new SignalOpener(secret, bob.device).open(old))).toBe('BAD_SEAL');
    expect(codeOf(() => opener.open('!!'))).toBe('BAD_SEAL');
    expect(codeOf(() => opener.open('A'.repeat(40_000)))).toBe('BAD_SEAL');
  });

  it('a member cannot pass off its own signal as another member’s', () => {
    // Carol seals, then swaps Alice's key in: the signature no longer verifies.
    const sealed = sealSignal(secret, carol, bob.device, new Uint8Array([1, 2]));
    const bytes = fromBase64url(sealed);
    const nonce = bytes.subarray(0, 24);
    const plain = nacl.secretbox.open(bytes.subarray(24), nonce, sealKey())!;
    plain.set(alice.publicKey, 0);
    const forged = new Uint8Array([...nonce, ...nacl.secretbox(plain, nonce, sealKey())]);
    expect(codeOf(() => new SignalOpener(secret, bob.device).open(toBase64url(forged)))).toBe(
      'BAD_SEAL',
    );
  });
});
