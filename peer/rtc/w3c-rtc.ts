import { MeshsyncError } from '../../shared/errors.js';
import type {
  DataChannelLike,
  DataChannelTuning,
  RtcCandidate,
  RtcConfig,
  RtcConnection,
  RtcConnectionState,
  RtcDescription,
  RtcPort,
} from './rtc-port.js';

/**
 * The standard RTCPeerConnection as meshsync uses it: the members below, nothing else. The
 * browser's own class and @roamhq/wrtc's both fit; the adapter is given the class, it never
 * looks for one.
 */
export interface W3cPeerConnection {
  readonly connectionState: string;
  readonly iceConnectionState: string;
  readonly localDescription: { type: string; sdp: string } | null;
  readonly remoteDescription: { type: string; sdp: string } | null;
  createDataChannel(label: string, init?: { ordered?: boolean }): unknown;
  createOffer(): Promise<{ type: string; sdp?: string }>;
  createAnswer(): Promise<{ type: string; sdp?: string }>;
  setLocalDescription(description: { type: 'offer' | 'answer'; sdp: string }): Promise<void>;
  setRemoteDescription(description: { type: 'offer' | 'answer'; sdp: string }): Promise<void>;
  addIceCandidate(candidate: RtcCandidate): Promise<void>;
  addEventListener(type: string, listener: (event: never) => void): void;
  removeEventListener(type: string, listener: (event: never) => void): void;
  close(): void;
}

export type W3cPeerConnectionClass = new (config: RtcConfig) => W3cPeerConnection;

/** An RTC port over a standard RTCPeerConnection class. */
export function w3cRtc(
  PeerConnection: W3cPeerConnectionClass,
  options: { name: string; tuning: DataChannelTuning },
): RtcPort {
  return {
    name: options.name,
    tuning: options.tuning,
    createConnection: (config) =>
      new W3cConnection(new PeerConnection({ iceServers: config.iceServers })),
  };
}

const STATES: ReadonlySet<string> = new Set([
  'new',
  'connecting',
  'connected',
  'disconnected',
  'failed',
  'closed',
]);

function description(d: { type: string; sdp: string } | null): RtcDescription | null {
  if (!d || (d.type !== 'offer' && d.type !== 'answer')) return null;
  return { type: d.type, sdp: d.sdp };
}

class W3cConnection implements RtcConnection {
  constructor(private readonly pc: W3cPeerConnection) {}

  get connectionState(): RtcConnectionState {
    const state = this.pc.connectionState;
    return STATES.has(state) ? (state as RtcConnectionState) : 'new';
  }

  get iceConnectionState(): string {
    return this.pc.iceConnectionState;
  }

  createDataChannel(label: string): DataChannelLike {
    return this.pc.createDataChannel(label, { ordered: true }) as DataChannelLike;
  }

  async offer(): Promise<RtcDescription> {
    await this.setLocal(await this.pc.createOffer());
    return this.local();
  }

  async answer(offer: RtcDescription): Promise<RtcDescription> {
    await this.pc.setRemoteDescription({ type: 'offer', sdp: offer.sdp });
    await this.setLocal(await this.pc.createAnswer());
    return this.local();
  }

  async accept(answer: RtcDescription): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
  }

  addCandidate(candidate: RtcCandidate): Promise<void> {
    return this.pc.addIceCandidate(candidate);
  }

  localDescription(): RtcDescription | null {
    return description(this.pc.localDescription);
  }

  remoteDescription(): RtcDescription | null {
    return description(this.pc.remoteDescription);
  }

  onCandidate(listener: (candidate: RtcCandidate | null) => void): () => void {
    const handler = (event: { candidate?: RtcCandidate | null }): void => {
      const c = event.candidate;
      if (!c?.candidate) return listener(null);
      listener({ candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex });
    };
    return this.listen('icecandidate', handler);
  }

  onDataChannel(listener: (channel: DataChannelLike) => void): () => void {
    return this.listen('datachannel', (event: { channel: DataChannelLike }) =>
      listener(event.channel),
    );
  }

  onStateChange(listener: (state: RtcConnectionState) => void): () => void {
    return this.listen('connectionstatechange', () => listener(this.connectionState));
  }

  close(): void {
    this.pc.close();
  }

  private listen<E>(type: string, handler: (event: E) => void): () => void {
    const listener = handler as (event: never) => void;
    this.pc.addEventListener(type, listener);
    return () => this.pc.removeEventListener(type, listener);
  }

  private async setLocal(d: { type: string; sdp?: string }): Promise<void> {
    if ((d.type !== 'offer' && d.type !== 'answer') || typeof d.sdp !== 'string') {
      throw new MeshsyncError('BAD_SDP', `the RTC stack created a ${d.type} description`);
    }
    await this.pc.setLocalDescription({ type: d.type, sdp: d.sdp });
  }

  private local(): RtcDescription {
    const local = this.localDescription();
    if (!local) throw new MeshsyncError('BAD_SDP', 'no local description was set');
    return local;
  }
}
