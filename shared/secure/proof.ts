import nacl from 'tweetnacl';
import { MeshsyncError } from '../errors.js';
import { concatBytes, equalBytes, fromUtf8, utf8 } from '../crypto/bytes.js';
import { sign, verify, type Identity } from '../crypto/identity.js';
import type { Role } from './session-keys.js';

/**
 * What a side sees of the channel below: for WebRTC the DTLS certificate fingerprints, ours and
 * the remote's; for transports without DTLS, nothing (the nonces bind the session instead).
 */
export interface ChannelBinding {
  local: Uint8Array;
  remote: Uint8Array;
}

export const MAX_BINDING_BYTES = 64;
export const MAX_NAME_BYTES = 64;

/** The content of a proof box: who we are, our signature, the channel as we see it. */
export interface Proof {
  publicKey: Uint8Array;
  signature: Uint8Array;
  binding: ChannelBinding;
  /** A display name (joining devices announce theirs); may be empty. */
  name: string;
}

function signedBytes(
  transcript: Uint8Array,
  role: Role,
  proof: Omit<Proof, 'signature'>,
): Uint8Array {
  const name = utf8(proof.name);
  return concatBytes(
    utf8('meshsync/handshake/proof'),
    transcript,
    Uint8Array.of(role, proof.binding.local.length),
    proof.binding.local,
    Uint8Array.of(proof.binding.remote.length),
    proof.binding.remote,
    Uint8Array.of(name.length),
    name,
    proof.publicKey,
  );
}

export function makeProof(
  identity: Identity,
  transcript: Uint8Array,
  role: Role,
  binding: ChannelBinding,
  name: string,
): Uint8Array {
  if (binding.local.length > MAX_BINDING_BYTES || binding.remote.length > MAX_BINDING_BYTES) {
    throw new MeshsyncError('INVALID_VALUE', `channel binding over ${MAX_BINDING_BYTES} bytes`);
  }
  const nameBytes = utf8(name);
  if (nameBytes.length > MAX_NAME_BYTES) {
    throw new MeshsyncError('INVALID_VALUE', `device name over ${MAX_NAME_BYTES} bytes`);
  }
  const unsigned = { publicKey: identity.publicKey, binding, name };
  const signature = sign(identity, signedBytes(transcript, role, unsigned));
  return concatBytes(
    identity.publicKey,
    signature,
    Uint8Array.of(binding.local.length),
    binding.local,
    Uint8Array.of(binding.remote.length),
    binding.remote,
    Uint8Array.of(nameBytes.length),
    nameBytes,
  );
}

/**
 * Reads and checks a remote proof: layout, the signature over the transcript and the remote's
 * role, then the channel binding against ours (mirrored). Throws AUTH_FAILED or AUTH_MITM.
 */
export function checkProof(
  plain: Uint8Array,
  transcript: Uint8Array,
  remoteRole: Role,
  ours: ChannelBinding,
): Proof {
  let at = 0;
  const take = (n: number): Uint8Array => {
    if (at + n > plain.length) throw new MeshsyncError('AUTH_FAILED', 'proof is truncated');
    const out = plain.slice(at, at + n);
    at += n;
    return out;
  };
  const takeShort = (max: number): Uint8Array => {
    const n = take(1)[0] ?? 0;
    if (n > max) throw new MeshsyncError('AUTH_FAILED', 'proof field too long');
    return take(n);
  };
  const publicKey = take(nacl.sign.publicKeyLength);
  const signature = take(nacl.sign.signatureLength);
  const binding = { local: takeShort(MAX_BINDING_BYTES), remote: takeShort(MAX_BINDING_BYTES) };
  const name = fromUtf8(takeShort(MAX_NAME_BYTES), 'AUTH_FAILED');
  if (at !== plain.length) throw new MeshsyncError('AUTH_FAILED', 'proof has trailing bytes');
  const proof: Proof = { publicKey, signature, binding, name };
  if (!verify(publicKey, signedBytes(transcript, remoteRole, proof), signature)) {
    throw new MeshsyncError('AUTH_FAILED', 'proof signature does not verify');
  }
  // The remote's "local" is our "remote" and the other way round, unless someone is in between.
  if (!equalBytes(binding.local, ours.remote) || !equalBytes(binding.remote, ours.local)) {
    throw new MeshsyncError(
      'AUTH_MITM',
      'the other side sees a different channel (DTLS fingerprints differ): a man in the middle',
    );
  }
  return proof;
}
