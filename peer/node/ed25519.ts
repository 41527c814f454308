import { createPublicKey, verify } from 'node:crypto';
import type { SignatureCheck } from '../../shared/secure/room.js';

/** DER prefix of an Ed25519 SubjectPublicKeyInfo; the 32 key bytes follow. */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/**
 * Node's native Ed25519 verify: some forty times faster than tweetnacl's pure JS, which matters
 * on a signaling server that checks two signatures per join, and for a device that opens
 * the sealed signals of its connections. Never throws.
 */
export const nativeEd25519Verify: SignatureCheck = (publicKey, message, signature) => {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    const key = createPublicKey({
      key: Buffer.concat([SPKI_PREFIX, publicKey]),
      format: 'der',
      type: 'spki',
    });
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
};
