import nacl from 'tweetnacl';
import { MeshsyncError } from '../errors.js';
import { concatBytes, fromBase64url, fromUtf8, toBase64url, utf8 } from '../crypto/bytes.js';
import { derive } from '../crypto/derive.js';
import { deviceIdFromKey, sign, verify, type Identity } from '../crypto/identity.js';
import type { SignatureCheck } from './room.js';
import { isDeviceId, type DeviceId } from '../ids.js';

/**
 * Sealed signals: what goes through a signaling server (offers, answers, candidates) is signed by
 * the sender's device key, addressed to one device, time-stamped, and encrypted under a key
 * derived from the mesh secret. The server relays a base64url blob it can neither read nor
 * change; a member cannot replay it to another member (the addressee is inside), nor later
 * (the time stamp, and the opener's memory of what it opened).
 */
export const MAX_SIGNAL_BYTES = 16 * 1024;
const LABEL = utf8('meshsync/signal');
const HEADER = 32 + 64 + 8; // sender key, signature, time (ms, u64)

export interface OpenedSignal {
  from: DeviceId;
  publicKey: Uint8Array;
  /** The sender's clock when it sealed, ms. */
  sentAt: number;
  payload: Uint8Array;
}

function sealKey(meshSecret: Uint8Array): Uint8Array {
  return derive('meshsync/signal-seal', meshSecret);
}

function signedBytes(to: string, sentAt: Uint8Array, payload: Uint8Array): Uint8Array {
  const addressee = utf8(to);
  return concatBytes(LABEL, Uint8Array.of(addressee.length), addressee, sentAt, payload);
}

/** Seals `payload` (e.g. JSON of an offer) for device `to`. */
export function sealSignal(
  meshSecret: Uint8Array,
  identity: Identity,
  to: DeviceId,
  payload: Uint8Array,
  options: { now?: number; random?: (n: number) => Uint8Array } = {},
): string {
  if (payload.length > MAX_SIGNAL_BYTES) {
    throw new MeshsyncError(
      'VALUE_TOO_LARGE',
      `signal of ${payload.length} bytes over ${MAX_SIGNAL_BYTES}`,
    );
  }
  const sentAt = new Uint8Array(8);
  new DataView(sentAt.buffer).setBigUint64(0, BigInt(Math.floor(options.now ?? Date.now())));
  const signature = sign(identity, signedBytes(to, sentAt, payload));
  const nonce = (options.random ?? nacl.randomBytes)(nacl.secretbox.nonceLength);
  const plain = concatBytes(identity.publicKey, signature, sentAt, payload);
  return toBase64url(concatBytes(nonce, nacl.secretbox(plain, nonce, sealKey(meshSecret))));
}

/**
 * Opens signals addressed to one device. Refuses (BAD_SEAL) what does not decrypt, is signed
 * by no one or for another device, is older or newer than `maxAgeMs`, or was opened before.
 * The caller still checks that `from` is a member it accepts.
 */
export class SignalOpener {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly meshSecret: Uint8Array,
    private readonly self: DeviceId,
    private readonly options: {
      maxAgeMs?: number;
      now?: () => number;
      /** The Ed25519 check (tweetnacl's by default; Node passes its native one). */
      check?: SignatureCheck;
    } = {},
  ) {}

  open(sealed: string): OpenedSignal {
    if (typeof sealed !== 'string' || sealed.length > ((MAX_SIGNAL_BYTES + 200) * 4) / 3) {
      throw new MeshsyncError('BAD_SEAL', 'sealed signal missing or too large');
    }
    const bytes = fromBase64url(sealed, 'BAD_SEAL', 'sealed signal');
    const nonceLength = nacl.secretbox.nonceLength;
    if (bytes.length < nonceLength + nacl.secretbox.overheadLength + HEADER) {
      throw new MeshsyncError('BAD_SEAL', 'sealed signal too short');
    }
    const nonce = bytes.subarray(0, nonceLength);
    const plain = nacl.secretbox.open(bytes.subarray(nonceLength), nonce, sealKey(this.meshSecret));
    if (plain === null)
      throw new MeshsyncError(
        'BAD_SEAL',
        'signal does not open: not sealed for this mesh, or altered',
      );
    const publicKey = plain.slice(0, 32);
    const signature = plain.subarray(32, 96);
    const sentAtBytes = plain.subarray(96, 104);
    const payload = plain.slice(104);
    const check = this.options.check ?? verify;
    if (!check(publicKey, signedBytes(this.self, sentAtBytes, payload), signature)) {
      throw new MeshsyncError(
        'BAD_SEAL',
        'signal signature fails, or it was meant for another device',
      );
    }
    const sentAt = Number(
      new DataView(sentAtBytes.buffer, sentAtBytes.byteOffset, 8).getBigUint64(0),
    );
    const now = (this.options.now ?? Date.now)();
    const maxAge = this.options.maxAgeMs ?? 120_000;
    if (Math.abs(now - sentAt) > maxAge) {
      throw new MeshsyncError(
        'BAD_SEAL',
        `signal sent at ${sentAt} is outside ${maxAge} ms of now`,
      );
    }
    const key = toBase64url(nonce);
    for (const [k, at] of this.seen) if (Math.abs(now - at) > maxAge) this.seen.delete(k);
    if (this.seen.has(key)) throw new MeshsyncError('BAD_SEAL', 'signal replayed');
    this.seen.set(key, sentAt);
    const from = deviceIdFromKey(publicKey);
    if (!isDeviceId(from)) throw new MeshsyncError('BAD_SEAL', 'bad sender');
    return { from, publicKey, sentAt, payload };
  }
}

/** Convenience: seal a JSON value. */
export function sealJsonSignal(
  meshSecret: Uint8Array,
  identity: Identity,
  to: DeviceId,
  value: unknown,
  options?: { now?: number; random?: (n: number) => Uint8Array },
): string {
  return sealSignal(meshSecret, identity, to, utf8(JSON.stringify(value)), options);
}

/** Convenience: open a signal whose payload is JSON (parsed, not validated: the caller does). */
export function openJsonSignal(
  opener: SignalOpener,
  sealed: string,
): OpenedSignal & { value: unknown } {
  const opened = opener.open(sealed);
  try {
    return { ...opened, value: JSON.parse(fromUtf8(opened.payload, 'BAD_SEAL')) as unknown };
  } catch (err) {
    throw new MeshsyncError('BAD_SEAL', 'signal payload is not JSON', { cause: err });
  }
}
