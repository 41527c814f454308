import nacl from 'tweetnacl';
import { concatBytes, fromBase64url, toBase64url, utf8 } from '../crypto/bytes.js';
import { derive } from '../crypto/derive.js';
import { deviceIdFromKey, sign, verify, type Identity } from '../crypto/identity.js';
import type { DeviceId } from '../ids.js';

/**
 * A mesh's signaling room. The room id is the public half of a key pair derived from the mesh
 * secret; joining means signing the server's challenge with the private half. The server checks
 * the signature against the room id itself, so it learns neither the secret nor anything that
 * would let it (or anyone who only saw a room id) join.
 */
export interface RoomKeys {
  /** 43 base64url characters: the room's Ed25519 public key. */
  roomId: string;
  secretKey: Uint8Array;
}

const JOIN_LABEL = utf8('meshsync/room-join');
export const ROOM_ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;
export const CHALLENGE_BYTES = 32;

export function roomKeys(meshSecret: Uint8Array): RoomKeys {
  const pair = nacl.sign.keyPair.fromSeed(derive('meshsync/room-key', meshSecret));
  return { roomId: toBase64url(pair.publicKey), secretKey: pair.secretKey };
}

/** The client's answer to a join challenge: a signature binding the challenge to the room. */
export function roomJoinProof(keys: RoomKeys, challenge: Uint8Array): string {
  const message = concatBytes(JOIN_LABEL, utf8(keys.roomId), challenge);
  return toBase64url(nacl.sign.detached(message, keys.secretKey));
}

/**
 * An Ed25519 signature check. tweetnacl's by default; a server passes its platform's native one
 * (tweetnacl's pure-JS verify manages only about a hundred a second).
 */
export type SignatureCheck = (
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
) => boolean;

/** The server's check of a join proof; false for anything malformed. Never throws. */
export function verifyRoomJoin(
  roomId: string,
  challenge: Uint8Array,
  proof: string,
  check: SignatureCheck = verify,
): boolean {
  if (!ROOM_ID_PATTERN.test(roomId) || typeof proof !== 'string' || proof.length !== 86) {
    return false;
  }
  try {
    const publicKey = fromBase64url(roomId);
    const signature = fromBase64url(proof);
    const message = concatBytes(JOIN_LABEL, utf8(roomId), challenge);
    return (
      publicKey.length === 32 && signature.length === 64 && check(publicKey, message, signature)
    );
  } catch {
    return false;
  }
}

const DEVICE_LABEL = utf8('meshsync/room-device');

/**
 * The device's half of a join: its signature over the room and the challenge. With it the server
 * stamps every message with an id it derived from a key the sender holds, so no member can speak
 * as another.
 */
export function deviceJoinProof(identity: Identity, roomId: string, challenge: Uint8Array): string {
  return toBase64url(sign(identity, concatBytes(DEVICE_LABEL, utf8(roomId), challenge)));
}

/** The server's check of a device proof; the device id it proves, or null. Never throws. */
export function verifyDeviceJoin(
  roomId: string,
  challenge: Uint8Array,
  publicKey: string,
  proof: string,
  check: SignatureCheck = verify,
): DeviceId | null {
  if (typeof publicKey !== 'string' || publicKey.length !== 43 || typeof proof !== 'string') {
    return null;
  }
  if (proof.length !== 86) return null;
  try {
    const key = fromBase64url(publicKey);
    const message = concatBytes(DEVICE_LABEL, utf8(roomId), challenge);
    const signature = fromBase64url(proof);
    if (key.length !== 32 || signature.length !== 64) return null;
    return check(key, message, signature) ? deviceIdFromKey(key) : null;
  } catch {
    return null;
  }
}
