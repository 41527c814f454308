import type { Unsubscribe } from '../../shared/emitter.js';
import { MeshsyncError, toMeshsyncError } from '../../shared/errors.js';
import type { DeviceId } from '../../shared/ids.js';
import { LIMITS } from '../../shared/limits.js';
import { FrameOpener, FrameSealer, SEALED_OVERHEAD } from '../../shared/secure/frame-box.js';
import { TransportEmitter } from '../transport/transport-emitter.js';
import type { Transport, TransportEvents } from '../transport/transport-port.js';

/** The authenticated other side of a secure session. */
export interface RemoteIdentity {
  device: DeviceId;
  publicKey: Uint8Array;
  /** The name it announced in its proof (joining devices); may be empty. */
  name: string;
}

/**
 * The transport a finished handshake hands to the sync session: frames are sealed end to end
 * (transports without DTLS) or passed through (DTLS already protects them, and the handshake
 * bound itself to both fingerprints). Owns the raw transport: closing one closes the other.
 */
export class SecureTransport implements Transport {
  readonly kind: string;
  readonly streaming: boolean;
  readonly maxFrameBytes: number;
  readonly remoteDevice: DeviceId;
  private readonly emitter = new TransportEmitter();
  private readonly sealer: FrameSealer | null;
  private readonly opener: FrameOpener | null;
  private closedFlag = false;
  private readonly offRaw: Unsubscribe;

  constructor(
    private readonly raw: Transport,
    readonly remote: RemoteIdentity,
    keys: { send: Uint8Array; receive: Uint8Array } | null,
  ) {
    this.kind = raw.kind;
    this.remoteDevice = remote.device;
    this.streaming = raw.streaming;
    const rawMax = raw.maxFrameBytes ?? LIMITS.maxFrameBytes;
    this.maxFrameBytes = keys ? rawMax - SEALED_OVERHEAD : rawMax;
    this.sealer = keys ? new FrameSealer(keys.send) : null;
    this.opener = keys ? new FrameOpener(keys.receive, this.maxFrameBytes) : null;
    const offClose = raw.on('close', (payload) => this.shut(payload));
    // Unsealed frames' first pieces are readable as they are.
    const offStart = keys ? null : raw.on('frameStart', (prefix) => this.emitter.starting(prefix));
    this.offRaw = () => {
      offClose();
      offStart?.();
    };
  }

  /** True when this layer encrypts (false when DTLS below does). */
  get encrypted(): boolean {
    return this.sealer !== null;
  }

  /** A frame from the raw transport, after the handshake (the handshake routes them here). */
  receive(frame: Uint8Array): void {
    if (this.closedFlag) return;
    try {
      this.emitter.deliver(this.opener ? this.opener.open(frame) : frame);
    } catch (err) {
      // A frame that does not open is an attack or a broken pipe: nothing after it is trusted.
      const error = toMeshsyncError(err, 'FRAME_REJECTED');
      this.shut({ reason: error.message, error });
      this.raw.close(error.message);
    }
  }

  send(frame: Uint8Array): Promise<void> {
    if (this.closedFlag)
      return Promise.reject(new MeshsyncError('CLOSED', 'secure transport is closed'));
    if (frame.length > this.maxFrameBytes) {
      return Promise.reject(
        new MeshsyncError(
          'FRAME_TOO_LARGE',
          `frame of ${frame.length} bytes over ${this.maxFrameBytes}`,
        ),
      );
    }
    return this.raw.send(this.sealer ? this.sealer.seal(frame) : frame);
  }

  close(reason = 'closed'): void {
    if (this.closedFlag) return;
    this.raw.close(reason);
    this.shut({ reason });
  }

  on<K extends keyof TransportEvents>(
    event: K,
    listener: (payload: TransportEvents[K]) => void,
  ): Unsubscribe {
    return this.emitter.on(event, listener);
  }

  private shut(payload: TransportEvents['close']): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.offRaw();
    this.emitter.closed(payload);
  }
}
