import { TransportEmitter } from '../../peer/transport/transport-emitter.js';
import type { Transport, TransportEvents } from '../../peer/transport/transport-port.js';
import type { Unsubscribe } from '../../shared/emitter.js';
import { MeshsyncError } from '../../shared/errors.js';
import { LIMITS } from '../../shared/limits.js';
import type { ChannelBinding } from '../../shared/secure/proof.js';
import { compactSdp } from '../../shared/sdp/index.js';
import { withTimeout, type Negotiation } from './rtc-peer.js';
import { createWeriftConnection, weriftNegotiation } from './rtc-werift.js';
import { createWrtcConnection, wrtcNegotiation } from './rtc-wrtc.js';

/*
 * TEST-ONLY: a meshsync `Transport` over an open WebRTC data channel of werift or @roamhq/wrtc,
 * and a helper that connects two of them (non-trickle, SDP strings handed over directly).
 */

/**
 * What both stacks' data channels have in common. werift's RTCDataChannel is a Node
 * EventEmitter with `addEventListener` on top: 'message' gets `{ data: string | Buffer }`,
 * 'open'/'close' are emitted from `setReadyState`. It has no `binaryType`. wrtc's is the DOM
 * one: binary messages arrive as ArrayBuffer once `binaryType` is 'arraybuffer'.
 */
export interface DataChannelLike {
  readonly readyState: string;
  readonly bufferedAmount: number;
  bufferedAmountLowThreshold: number;
  binaryType?: string;
  send(data: Buffer<ArrayBuffer>): void;
  close(): void;
  addEventListener(type: string, listener: (event: unknown) => void): void;
  removeEventListener(type: string, listener: (event: unknown) => void): void;
}

/** A session description as both stacks expose it (`pc.localDescription`). */
export interface SdpText {
  type: string;
  sdp: string;
}

/** Sends wait for the channel to drain below LOW_WATER once more than HIGH_WATER is queued. */
const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;

function sdpType(description: SdpText): 'offer' | 'answer' {
  if (description.type === 'offer' || description.type === 'answer') return description.type;
  throw new Error(`unexpected ${description.type} description`);
}

/**
 * The channel binding of a connection: the DTLS fingerprint hash bytes of our SDP, then of the
 * remote's (the algorithm `compactSdp` keeps: sha-256 when present), as the compact form
 * carries it, so a side that only saw the rebuilt SDP computes the same bytes.
 */
export function bindingFromSdp(local: SdpText, remote: SdpText): ChannelBinding {
  return {
    local: compactSdp(sdpType(local), local.sdp).fingerprint.hash,
    remote: compactSdp(sdpType(remote), remote.sdp).fingerprint.hash,
  };
}

/** The smaller of two SCTP max-message-sizes (0 = no limit), capped at the protocol's limit. */
function frameLimit(local: SdpText, remote: SdpText): number {
  const sizes = [local, remote]
    .map((d) => compactSdp(sdpType(d), d.sdp).maxMessageSize)
    .filter((n) => n > 0);
  return Math.min(LIMITS.maxFrameBytes, ...sizes);
}

/** A frame from a message event's data (a copy the receiver owns), or undefined for text. */
function frameOf(data: unknown): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data.slice(0));
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  }
  return undefined;
}

/** Resolves when `channel` is open; rejects if it closes first. */
export function channelOpen(channel: DataChannelLike): Promise<void> {
  return new Promise((resolve, reject) => {
    if (channel.readyState === 'open') return resolve();
    if (channel.readyState === 'closed') return reject(new Error('data channel closed'));
    const done = (): void => {
      channel.removeEventListener('open', onOpen);
      channel.removeEventListener('close', onClose);
    };
    const onOpen = (): void => {
      done();
      resolve();
    };
    const onClose = (): void => {
      done();
      reject(new Error('data channel closed before it opened'));
    };
    channel.addEventListener('open', onOpen);
    channel.addEventListener('close', onClose);
  });
}

/**
 * A `Transport` over a WebRTC data channel (kind 'webrtc'): one binary message per frame,
 * `binding` from the DTLS fingerprints of both SDPs. Create it as soon as the channel exists
 * (before it opens): frames are held from then on until the first 'message' listener.
 * Closing it closes the channel (the other side's transport then closes too); the peer
 * connection stays with its owner.
 */
export class RtcDataTransport implements Transport {
  readonly kind = 'webrtc';
  readonly streaming = true;
  readonly binding: ChannelBinding;
  readonly maxFrameBytes: number;
  private readonly emitter = new TransportEmitter();
  private readonly drained = new Set<() => void>();
  private readonly listeners: Array<[string, (event: unknown) => void]>;
  private closed = false;

  constructor(
    private readonly channel: DataChannelLike,
    sdp: { local: SdpText; remote: SdpText },
  ) {
    this.binding = bindingFromSdp(sdp.local, sdp.remote);
    this.maxFrameBytes = frameLimit(sdp.local, sdp.remote);
    if (channel.binaryType !== undefined) channel.binaryType = 'arraybuffer';
    channel.bufferedAmountLowThreshold = LOW_WATER;
    this.listeners = [
      ['message', (event) => this.onMessage(event)],
      ['close', () => this.shut('closed by the other side')],
      ['error', (event) => this.onError(event)],
      ['bufferedamountlow', () => this.wake()],
    ];
    for (const [type, listener] of this.listeners) channel.addEventListener(type, listener);
  }

  async send(frame: Uint8Array): Promise<void> {
    if (this.closed) throw new MeshsyncError('CLOSED', 'webrtc transport is closed');
    if (this.channel.readyState !== 'open') {
      throw new MeshsyncError('CLOSED', `data channel is ${this.channel.readyState}`);
    }
    if (frame.length > this.maxFrameBytes) {
      throw new MeshsyncError(
        'FRAME_TOO_LARGE',
        `frame of ${frame.length} bytes over ${this.maxFrameBytes}`,
      );
    }
    try {
      // A Buffer copy: werift sends only Buffers (and may queue it); wrtc takes any view.
      this.channel.send(Buffer.from(frame));
    } catch (err) {
      const error = new MeshsyncError('CLOSED', `data channel send failed: ${String(err)}`);
      this.close(error.message);
      throw error;
    }
    if (this.channel.bufferedAmount > HIGH_WATER) {
      await new Promise<void>((resolve) => this.drained.add(resolve));
    }
  }

  close(reason = 'closed'): void {
    if (this.closed) return;
    try {
      this.channel.close();
    } finally {
      this.shut(reason);
    }
  }

  on<K extends keyof TransportEvents>(
    event: K,
    listener: (payload: TransportEvents[K]) => void,
  ): Unsubscribe {
    return this.emitter.on(event, listener);
  }

  private onMessage(event: unknown): void {
    if (this.closed) return;
    const frame = frameOf((event as { data?: unknown }).data);
    if (frame) return this.emitter.deliver(frame);
    const error = new MeshsyncError('BAD_FRAME', 'text message on a binary data channel');
    this.channel.close();
    this.shut(error.message, error);
  }

  private onError(event: unknown): void {
    const cause = (event as { error?: unknown }).error;
    const error = new MeshsyncError('CLOSED', `data channel error: ${String(cause ?? event)}`);
    this.channel.close();
    this.shut(error.message, error);
  }

  private wake(): void {
    for (const resolve of this.drained) resolve();
    this.drained.clear();
  }

  private shut(reason: string, error?: MeshsyncError): void {
    if (this.closed) return;
    this.closed = true;
    for (const [type, listener] of this.listeners) this.channel.removeEventListener(type, listener);
    this.wake();
    this.emitter.closed(error ? { reason, error } : { reason });
  }
}

export type RtcStack = 'werift' | 'wrtc';

/** One side of a test connection, the same for both stacks. */
interface RtcEnd extends Negotiation {
  createChannel(): DataChannelLike;
  /** Calls `listener` synchronously when the remote's channel arrives (answerer). */
  onChannel(listener: (channel: DataChannelLike) => void): void;
  descriptions(): { local: SdpText; remote: SdpText };
  close(): Promise<void>;
}

function described(local: SdpText | null | undefined, remote: SdpText | null | undefined) {
  if (!local || !remote) throw new Error('descriptions are not both set');
  return {
    local: { type: local.type, sdp: local.sdp },
    remote: { type: remote.type, sdp: remote.sdp },
  };
}

function weriftEnd(): RtcEnd {
  const pc = createWeriftConnection();
  return {
    ...weriftNegotiation(pc),
    createChannel: () => pc.createDataChannel('meshsync'),
    onChannel: (listener) => {
      pc.onDataChannel.subscribe((channel) => listener(channel));
    },
    descriptions: () => described(pc.localDescription, pc.remoteDescription),
    close: () => pc.close(),
  };
}

function wrtcEnd(): RtcEnd {
  const pc = createWrtcConnection();
  return {
    ...wrtcNegotiation(pc),
    createChannel: () => pc.createDataChannel('meshsync'),
    onChannel: (listener) => {
      pc.addEventListener('datachannel', (event) => listener(event.channel));
    },
    descriptions: () => described(pc.localDescription, pc.remoteDescription),
    close: async () => pc.close(),
  };
}

const ends: Record<RtcStack, () => RtcEnd> = { werift: weriftEnd, wrtc: wrtcEnd };

export interface RtcPair {
  /** The offerer's transport (it created the channel). */
  a: RtcDataTransport;
  /** The answerer's transport. */
  b: RtcDataTransport;
  /** Closes both transports and both peer connections. */
  close(): Promise<void>;
}

/**
 * Connects a `kindA` offerer to a `kindB` answerer with one complete offer/answer exchange
 * (the SDP strings are handed over directly), and resolves once the data channel is open on
 * both sides. Always `close()` the pair: an open wrtc connection keeps the process alive.
 */
export async function openRtcPair(
  kindA: RtcStack,
  kindB: RtcStack,
  timeoutMs = 30_000,
): Promise<RtcPair> {
  const endA = ends[kindA]();
  let endB: RtcEnd | undefined;
  let a: RtcDataTransport | undefined;
  let b: RtcDataTransport | undefined;
  const close = async (): Promise<void> => {
    a?.close('connection closed');
    b?.close('connection closed');
    await Promise.allSettled([endA.close(), endB?.close()]);
  };
  try {
    endB = ends[kindB]();
    const answerer = endB;
    const channelA = endA.createChannel();
    // The answerer's transport is made in the 'datachannel' callback itself, so it holds every
    // frame from the first one on.
    const remote = new Promise<RtcDataTransport>((resolve, reject) => {
      answerer.onChannel((channel) => {
        try {
          const transport = new RtcDataTransport(channel, answerer.descriptions());
          b = transport;
          channelOpen(channel).then(() => resolve(transport), reject);
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
    });
    const offer = await withTimeout(endA.offer(), timeoutMs, `${kindA} offer`);
    const answer = await withTimeout(endB.answer(offer), timeoutMs, `${kindB} answer`);
    await withTimeout(endA.accept(answer), timeoutMs, `${kindA} accepts the answer`);
    a = new RtcDataTransport(channelA, endA.descriptions());
    const [, opened] = await withTimeout(
      Promise.all([channelOpen(channelA), remote]),
      timeoutMs,
      `${kindA} <-> ${kindB} data channel open`,
    );
    return { a, b: opened, close };
  } catch (err) {
    await close();
    throw err;
  }
}
