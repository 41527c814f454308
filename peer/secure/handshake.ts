import nacl from 'tweetnacl';
import { MeshsyncError, toMeshsyncError } from '../../shared/errors.js';
import { deviceIdFromKey, type Identity } from '../../shared/crypto/identity.js';
import {
  AUTH_VERSION,
  MAX_PROOF_BYTES,
  NONCE_BYTES,
  authBody,
  authFrameType,
  decodeAuthHello,
  decodeRefusal,
  encodeAuthBox,
  encodeAuthHello,
  encodeRefusal,
  type AuthHello,
} from '../../shared/secure/auth-frames.js';
import { checkProof, makeProof, type ChannelBinding } from '../../shared/secure/proof.js';
import {
  authKey,
  deriveSessionKeys,
  openOnce,
  sealOnce,
  type SessionKeys,
} from '../../shared/secure/session-keys.js';
import type { Transport } from '../transport/transport-port.js';
import { SecureTransport, type RemoteIdentity } from './secure-transport.js';

/** How this side proves itself, and how it judges the other side. */
export type HandshakeRole =
  | {
      kind: 'member';
      meshSecret: Uint8Array;
      /** Throws AUTH_UNKNOWN_DEVICE or AUTH_REVOKED unless the device may connect. */
      admit(remote: RemoteIdentity): Promise<void> | void;
      /** Finds a pending invite by id (for devices that join); throws TOKEN_* when unusable. */
      invite?(id: Uint8Array): Promise<{ secret: Uint8Array }> | { secret: Uint8Array };
      /** Called once a joining device proved its invite: adds it to the mesh. */
      joined?(remote: RemoteIdentity, inviteId: Uint8Array): Promise<void> | void;
    }
  | { kind: 'join'; inviteId: Uint8Array; inviteSecret: Uint8Array };

export interface HandshakeOptions {
  identity: Identity;
  role: HandshakeRole;
  /** Our display name, sent in the proof. @default '' */
  name?: string;
  /** @default transport.binding, or none (then frames are encrypted end to end) */
  binding?: ChannelBinding;
  /** @default 15_000 */
  timeoutMs?: number;
  /** @default crypto.getRandomValues */
  random?: (n: number) => Uint8Array;
  signal?: AbortSignal;
}

export interface SecureChannel {
  transport: SecureTransport;
  remote: RemoteIdentity;
  /** For a joining device: the mesh secret the member sent in its confirmation. */
  meshSecret?: Uint8Array;
}

const NO_BINDING: ChannelBinding = { local: new Uint8Array(0), remote: new Uint8Array(0) };

function defaultRandom(n: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(n));
}

/**
 * Runs the mutual handshake (PROTOCOL.md, "Secure session") over `raw` and resolves with a
 * transport to sync over. Both sides run it at once; neither needs to be the initiator.
 * Rejects with a coded error (AUTH_*, TOKEN_*, TIMEOUT, ABORTED, CLOSED) after telling the
 * other side why and closing `raw`.
 */
export function secureHandshake(raw: Transport, options: HandshakeOptions): Promise<SecureChannel> {
  return new Handshake(raw, options).run();
}

class Handshake {
  private readonly eph: nacl.BoxKeyPair;
  private readonly ownHello: AuthHello;
  private readonly ownHelloFrame: Uint8Array;
  private readonly binding: ChannelBinding;
  private keys: SessionKeys | undefined;
  private inviteId: Uint8Array | undefined;
  private secure: SecureTransport | undefined;
  private inbound: Promise<void> = Promise.resolve();
  private settled = false;
  private resolve!: (channel: SecureChannel) => void;
  private reject!: (error: MeshsyncError) => void;
  private readonly cleanup: Array<() => void> = [];
  private offMessage: (() => void) | undefined;
  private remoteIdentity: RemoteIdentity | undefined;

  constructor(
    private readonly raw: Transport,
    private readonly options: HandshakeOptions,
  ) {
    const random = options.random ?? defaultRandom;
    this.eph = nacl.box.keyPair.fromSecretKey(random(nacl.box.secretKeyLength));
    this.binding = options.binding ?? raw.binding ?? NO_BINDING;
    const { role } = options;
    this.ownHello = {
      version: AUTH_VERSION,
      invite: role.kind === 'join' ? role.inviteId : null,
      eph: this.eph.publicKey,
      nonce: random(NONCE_BYTES),
    };
    this.ownHelloFrame = encodeAuthHello(this.ownHello);
  }

  run(): Promise<SecureChannel> {
    const done = new Promise<SecureChannel>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    const { signal } = this.options;
    if (signal?.aborted) {
      this.fail(new MeshsyncError('ABORTED', 'handshake aborted'), false);
      return done;
    }
    const onAbort = (): void => this.fail(new MeshsyncError('ABORTED', 'handshake aborted'), false);
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(
      () => this.fail(new MeshsyncError('TIMEOUT', 'secure handshake timed out'), true),
      this.options.timeoutMs ?? 15_000,
    );
    this.cleanup.push(
      () => signal?.removeEventListener('abort', onAbort),
      () => clearTimeout(timer),
      // In line with the frames: a refusal that arrived just before the close is read first.
      this.raw.on('close', ({ reason, error }) => {
        this.inbound = this.inbound.then(() => {
          if (this.settled) return;
          this.fail(
            error ?? new MeshsyncError('CLOSED', `closed during the handshake: ${reason}`),
            false,
          );
        });
      }),
    );
    this.offMessage = this.raw.on('message', (frame) => {
      this.inbound = this.inbound.then(() => this.route(frame));
    });
    this.send(this.ownHelloFrame);
    return done;
  }

  private async route(frame: Uint8Array): Promise<void> {
    if (this.secure) return this.secure.receive(frame);
    if (this.settled) return;
    try {
      await this.step(frame);
    } catch (err) {
      this.fail(toMeshsyncError(err, 'AUTH_FAILED'), true);
    }
  }

  private async step(frame: Uint8Array): Promise<void> {
    const type = authFrameType(frame);
    if (type === 'refuse') return this.fail(decodeRefusal(frame), false);
    if (!this.keys) {
      if (type !== 'hello')
        throw new MeshsyncError('AUTH_FAILED', 'expected the secure hello first');
      return this.onHello(frame);
    }
    if (!this.remoteIdentity) {
      if (type !== 'proof') throw new MeshsyncError('AUTH_FAILED', 'expected a proof');
      return this.onProof(frame);
    }
    if (type !== 'confirm') throw new MeshsyncError('AUTH_FAILED', 'expected a confirmation');
    const body = openOnce(this.keys.confirmKey.remote, authBody(frame, 'confirm', 64));
    const joining = this.options.role.kind === 'join';
    if (body === null || body.length !== (joining ? 32 : 0)) {
      throw new MeshsyncError('AUTH_FAILED', 'confirmation does not open');
    }
    this.finish(joining ? body : undefined);
  }

  private async onHello(frame: Uint8Array): Promise<void> {
    const hello = decodeAuthHello(frame);
    const { role } = this.options;
    let auth: Uint8Array;
    if (role.kind === 'join') {
      if (hello.invite) throw new MeshsyncError('AUTH_FAILED', 'both sides are joining');
      auth = authKey('invite', role.inviteSecret);
    } else if (hello.invite) {
      if (!role.invite) throw new MeshsyncError('AUTH_FAILED', 'this device does not take joins');
      this.inviteId = hello.invite;
      auth = authKey('invite', (await role.invite(hello.invite)).secret);
    } else {
      auth = authKey('mesh', role.meshSecret);
    }
    this.keys = deriveSessionKeys({
      ownHello: this.ownHelloFrame,
      remoteHello: frame,
      ownEph: this.eph.publicKey,
      remoteEph: hello.eph,
      ownEphSecret: this.eph.secretKey,
      auth,
    });
    const proof = makeProof(
      this.options.identity,
      this.keys.transcript,
      this.keys.role,
      this.binding,
      this.options.name ?? '',
    );
    this.send(encodeAuthBox('proof', sealOnce(this.keys.proofKey.own, proof)));
  }

  private async onProof(frame: Uint8Array): Promise<void> {
    const keys = this.keys!;
    const plain = openOnce(keys.proofKey.remote, authBody(frame, 'proof', MAX_PROOF_BYTES));
    if (plain === null) {
      throw new MeshsyncError(
        'AUTH_FAILED',
        'proof does not open: not of this mesh (or invite), replayed, or altered',
      );
    }
    const remoteRole = keys.role === 0 ? 1 : 0;
    const proof = checkProof(plain, keys.transcript, remoteRole, this.binding);
    const remote: RemoteIdentity = {
      device: deviceIdFromKey(proof.publicKey),
      publicKey: proof.publicKey,
      name: proof.name,
    };
    this.remoteIdentity = remote;
    // We accept the other side only after our own checks; it accepts us the same way, and
    // each side is done when the other's confirmation arrives (a refusal arrives instead).
    const { role } = this.options;
    let grant: Uint8Array = new Uint8Array(0);
    if (role.kind === 'member' && this.inviteId) {
      await role.joined?.(remote, this.inviteId);
      grant = role.meshSecret;
    } else if (role.kind === 'member') {
      await role.admit(remote);
    }
    this.send(encodeAuthBox('confirm', sealOnce(keys.confirmKey.own, grant)));
  }

  private finish(meshSecret?: Uint8Array): void {
    const keys = this.keys!;
    const remote = this.remoteIdentity!;
    const encrypt = this.binding.local.length === 0 && this.binding.remote.length === 0;
    this.secure = new SecureTransport(
      this.raw,
      remote,
      encrypt ? { send: keys.dataKey.send, receive: keys.dataKey.receive } : null,
    );
    this.settled = true;
    // The message listener stays: it now routes frames to the secure transport.
    for (const undo of this.cleanup) undo();
    const channel: SecureChannel = { transport: this.secure, remote };
    if (meshSecret) channel.meshSecret = meshSecret;
    this.resolve(channel);
  }

  private send(frame: Uint8Array): void {
    this.raw.send(frame).catch((err: unknown) => {
      // In line with the frames too: a refusal that is already queued is read before this
      // failure counts, so the refusal's code wins over CLOSED.
      this.inbound = this.inbound.then(() => this.fail(toMeshsyncError(err, 'CLOSED'), false));
    });
  }

  private fail(error: MeshsyncError, tell: boolean): void {
    if (this.settled) return;
    this.settled = true;
    for (const undo of this.cleanup) undo();
    this.offMessage?.();
    if (tell) {
      this.raw.send(encodeRefusal(error.code, error.message)).then(
        () => this.raw.close(error.message),
        () => this.raw.close(error.message),
      );
    } else {
      this.raw.close(error.message);
    }
    this.reject(error);
  }
}
