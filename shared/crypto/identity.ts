import nacl from 'tweetnacl';
import { MeshsyncError } from '../errors.js';
import { asDeviceId, type DeviceId } from '../ids.js';
import { fromBase64url, toBase32, toBase64url } from './bytes.js';
import { derive } from './derive.js';

/** A device's Ed25519 key pair and the id derived from its public key. */
export interface Identity {
  readonly device: DeviceId;
  readonly publicKey: Uint8Array;
  /** tweetnacl's 64-byte form: seed followed by the public key. */
  readonly secretKey: Uint8Array;
}

/** 16 lower-case base32 characters (80 bits) of a hash of the public key. */
export function deviceIdFromKey(publicKey: Uint8Array): DeviceId {
  if (publicKey.length !== nacl.sign.publicKeyLength) {
    throw new MeshsyncError('INVALID_VALUE', 'a device key is 32 bytes');
  }
  return asDeviceId(
    toBase32(derive('meshsync/device-id', publicKey).subarray(0, 10)).toLowerCase(),
  );
}

export function identityFromSeed(seed: Uint8Array): Identity {
  if (seed.length !== nacl.sign.seedLength) {
    throw new MeshsyncError('INVALID_VALUE', 'an identity seed is 32 bytes');
  }
  const pair = nacl.sign.keyPair.fromSeed(seed);
  return {
    device: deviceIdFromKey(pair.publicKey),
    publicKey: pair.publicKey,
    secretKey: pair.secretKey,
  };
}

export function generateIdentity(random: (n: number) => Uint8Array): Identity {
  return identityFromSeed(random(nacl.sign.seedLength));
}

/** The text kept in a store's meta: the 32-byte seed, base64url. A secret. */
export function exportIdentity(identity: Identity): string {
  return toBase64url(identity.secretKey.subarray(0, nacl.sign.seedLength));
}

export function importIdentity(text: string): Identity {
  return identityFromSeed(fromBase64url(text, 'STORE_CORRUPT', 'stored identity'));
}

export function sign(identity: Identity, message: Uint8Array): Uint8Array {
  return nacl.sign.detached(message, identity.secretKey);
}

export function verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  return (
    publicKey.length === nacl.sign.publicKeyLength &&
    signature.length === nacl.sign.signatureLength &&
    nacl.sign.detached.verify(message, signature, publicKey)
  );
}
