import type { Unsubscribe } from '../../shared/emitter.js';
import type { FrameCodec } from './deflate.js';

/**
 * The RTC port: the part of the W3C RTCPeerConnection family meshsync uses, injected. Adapters:
 * werift and @roamhq/wrtc (`meshsync/node`), the browser's own (`meshsync/browser`). The core
 * never imports or sniffs an implementation.
 */

/** A STUN or TURN server, as in `RTCConfiguration.iceServers`. */
export interface RtcIceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export interface RtcConfig {
  /** The only ICE servers contacted. meshsync has no default: none unless the user gives some. */
  iceServers: RtcIceServer[];
}

export interface RtcDescription {
  type: 'offer' | 'answer';
  sdp: string;
}

/** One trickled ICE candidate, as `RTCIceCandidateInit`. */
export interface RtcCandidate {
  candidate: string;
  sdpMid: string | null;
  sdpMLineIndex: number | null;
}

export type RtcConnectionState =
  'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';

/**
 * What the data-channel transport needs of a channel. Both the DOM's RTCDataChannel and
 * werift's have this shape (werift has no `binaryType` and delivers Buffers).
 */
export interface DataChannelLike {
  readonly label: string;
  readonly readyState: string;
  readonly bufferedAmount: number;
  bufferedAmountLowThreshold: number;
  binaryType?: string;
  send(data: Uint8Array<ArrayBuffer>): void;
  close(): void;
  addEventListener(type: string, listener: (event: unknown) => void): void;
  removeEventListener(type: string, listener: (event: unknown) => void): void;
}

/**
 * How the data-channel transport drives one implementation's channels. Send buffers are kept
 * between `lowWaterBytes` and `highWaterBytes` (werift slows sharply when megabytes queue).
 */
export interface DataChannelTuning {
  /** Largest message sent, below the negotiated max-message-size. */
  messageBytes: number;
  /** A send waits once the channel's buffered amount passes this... */
  highWaterBytes: number;
  /** ...until it drains below this (`bufferedAmountLowThreshold`). */
  lowWaterBytes: number;
  /**
   * Deflate frames: `always`, `never`, or `auto` (only while the channel is the bottleneck,
   * that is when a send recently had to wait for the buffer to drain).
   */
  compress: 'always' | 'never' | 'auto';
}

/** One peer connection. Every method maps to the W3C call of the same meaning. */
export interface RtcConnection {
  /** Opens the reliable, ordered data channel (the offerer calls it before `offer()`). */
  createDataChannel(label: string): DataChannelLike;
  /** Creates the offer, sets it as local description and returns it. */
  offer(): Promise<RtcDescription>;
  /** Sets the remote offer, creates the answer, sets it locally and returns it. */
  answer(offer: RtcDescription): Promise<RtcDescription>;
  /** Sets the remote answer. */
  accept(answer: RtcDescription): Promise<void>;
  addCandidate(candidate: RtcCandidate): Promise<void>;
  /** The current local description (its SDP grows with gathered candidates), or null. */
  localDescription(): RtcDescription | null;
  remoteDescription(): RtcDescription | null;
  readonly connectionState: RtcConnectionState;
  readonly iceConnectionState: string;
  /** Each local candidate as it is gathered; `null` once gathering is complete. */
  onCandidate(listener: (candidate: RtcCandidate | null) => void): Unsubscribe;
  /** The channel the remote opened (answerer). */
  onDataChannel(listener: (channel: DataChannelLike) => void): Unsubscribe;
  onStateChange(listener: (state: RtcConnectionState) => void): Unsubscribe;
  /** Closes the connection; idempotent. Always called: native stacks keep the process alive. */
  close(): void;
}

export interface RtcPort {
  /** `werift`, `wrtc`, `browser`: for status and logs. */
  readonly name: string;
  readonly tuning: DataChannelTuning;
  /** Frame compression: fflate's by default; Node's ports use zlib. */
  readonly codec?: FrameCodec;
  createConnection(config: RtcConfig): RtcConnection;
}
