import type { Unsubscribe } from '../../shared/emitter.js';
import type { MeshsyncError } from '../../shared/errors.js';
import type { DeviceId } from '../../shared/ids.js';
import type { ChannelBinding } from '../../shared/secure/proof.js';

export interface TransportEvents extends Record<string, unknown> {
  /** One whole frame from the other side. */
  message: Uint8Array;
  /**
   * Optional hint: the first bytes of a frame still arriving in pieces (its 'message' follows).
   * Lets the sync engine read a page's head and ask for the next page a whole frame earlier.
   */
  frameStart: Uint8Array;
  /** The pipe is gone; no message follows. Emitted once. */
  close: { reason: string; error?: MeshsyncError };
}

/**
 * A message pipe between two devices: reliable, ordered, frame-preserving. WebRTC data
 * channels, WebSockets, HTTP request pairs, the signaling relay and the in-memory pair all
 * implement it; the sync engine sees nothing else.
 *
 * A transport holds the frames it receives until its first 'message' listener is attached, so a
 * session started after the other side has already spoken loses nothing.
 */
export interface Transport {
  /** A short name for status, e.g. `memory`, `webrtc`, `websocket`. */
  readonly kind: string;
  /** True when either side can send at any time (false for request/response transports). */
  readonly streaming: boolean;
  /** Largest frame this transport carries, if below the protocol's limit. */
  readonly maxFrameBytes?: number;
  /**
   * What this side sees of the channel's own security: DTLS certificate fingerprints (ours, the
   * remote's) on WebRTC. Absent on transports without DTLS; the secure session then encrypts.
   */
  readonly binding?: ChannelBinding;
  /** The device at the other end, when a secure session authenticated it. */
  readonly remoteDevice?: DeviceId;
  /** Sends one frame; resolves when the transport can take more (backpressure). */
  send(frame: Uint8Array): Promise<void>;
  /** Closes both directions; idempotent. */
  close(reason?: string): void;
  on<K extends keyof TransportEvents>(
    event: K,
    listener: (payload: TransportEvents[K]) => void,
  ): Unsubscribe;
}
