import nacl from 'tweetnacl';
import { MeshsyncError } from '../errors.js';
import { compareBytes, equalBytes } from '../crypto/bytes.js';
import { derive } from '../crypto/derive.js';

/** 0 for the side whose ephemeral key sorts first, 1 for the other. */
export type Role = 0 | 1;

/** Everything both sides derive alike once both hellos are known (PROTOCOL.md). */
export interface SessionKeys {
  role: Role;
  /** Hash of both hellos in role order: what the proofs sign. */
  transcript: Uint8Array;
  proofKey: { own: Uint8Array; remote: Uint8Array };
  dataKey: { send: Uint8Array; receive: Uint8Array };
  /** Seal the last message of each side: the confirmation (with the mesh secret for joiners). */
  confirmKey: { own: Uint8Array; remote: Uint8Array };
}

/** The key that proves membership: from the mesh secret, or from an invite's one-time secret. */
export function authKey(kind: 'mesh' | 'invite', secret: Uint8Array): Uint8Array {
  return derive(kind === 'mesh' ? 'meshsync/mesh-auth' : 'meshsync/invite-auth', secret);
}

/**
 * The key schedule. `ownHello`/`remoteHello` are the hello bodies as sent (they hold the
 * ephemeral keys and nonces); `ownEphSecret` is our ephemeral X25519 secret key.
 */
export function deriveSessionKeys(input: {
  ownHello: Uint8Array;
  remoteHello: Uint8Array;
  ownEph: Uint8Array;
  remoteEph: Uint8Array;
  ownEphSecret: Uint8Array;
  auth: Uint8Array;
}): SessionKeys {
  const order = compareBytes(input.ownEph, input.remoteEph);
  // Our own hello reflected back at us would make both sides one.
  if (order === 0) throw new MeshsyncError('AUTH_FAILED', 'the other side sent our own hello');
  const role: Role = order < 0 ? 0 : 1;
  const shared = nacl.scalarMult(input.ownEphSecret, input.remoteEph);
  if (equalBytes(shared, new Uint8Array(32))) {
    throw new MeshsyncError('AUTH_FAILED', 'ephemeral key of low order');
  }
  const [first, second] =
    role === 0 ? [input.ownHello, input.remoteHello] : [input.remoteHello, input.ownHello];
  const transcript = derive('meshsync/handshake/transcript', first, second);
  const master = derive('meshsync/session', shared, input.auth, transcript);
  const own = Uint8Array.of(role);
  const other = Uint8Array.of(1 - role);
  return {
    role,
    transcript,
    proofKey: {
      own: derive('meshsync/proof', master, own),
      remote: derive('meshsync/proof', master, other),
    },
    dataKey: {
      send: derive('meshsync/data', master, own),
      receive: derive('meshsync/data', master, other),
    },
    confirmKey: {
      own: derive('meshsync/confirm', master, own),
      remote: derive('meshsync/confirm', master, other),
    },
  };
}

/** One-shot boxes (each key seals exactly one message) use an all-zero nonce. */
const ONCE_NONCE = new Uint8Array(nacl.secretbox.nonceLength);

export function sealOnce(key: Uint8Array, plain: Uint8Array): Uint8Array {
  return nacl.secretbox(plain, ONCE_NONCE, key);
}

/** Opens a one-shot box; null when it does not authenticate under `key`. */
export function openOnce(key: Uint8Array, box: Uint8Array): Uint8Array | null {
  return nacl.secretbox.open(box, ONCE_NONCE, key);
}
