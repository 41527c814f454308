import {
  Connection,
  UdpTransport,
  RTCPeerConnection,
  RTCSessionDescription,
  type PeerConfig,
  type RTCDataChannel,
} from 'werift';
import { MeshsyncError } from '../../shared/errors.js';
import { zlibCodec } from './zlib-codec.js';
import type {
  DataChannelLike,
  DataChannelTuning,
  RtcCandidate,
  RtcConfig,
  RtcConnection,
  RtcConnectionState,
  RtcDescription,
  RtcPort,
} from '../rtc/rtc-port.js';

let neutralised = false;

/**
 * werift's ICE agent queries a public STUN server of its own choosing when none is configured.
 * meshsync never contacts a host its user did not name, so this wraps `gatherCandidates`: with
 * no STUN server in the agent's options, the agent has none at all. Idempotent; applied by
 * `weriftRtc()` before any connection exists. (It patches werift's class, once per process:
 * there is no per-connection option that turns the fallback off.)
 */
export function neutraliseWeriftDefaultStun(): void {
  if (neutralised) return;
  neutralised = true;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with the instance below
  const gather = Connection.prototype.gatherCandidates;
  Connection.prototype.gatherCandidates = function (this: Connection): Promise<void> {
    if (this.options.stunServer === undefined) this.stunServer = undefined;
    return gather.call(this);
  };
}

let receiveBuffer = 0;

/**
 * werift reads its UDP sockets with the system's default receive buffer (208 KiB on Linux), and
 * a fast sender overflows it: the lost packets cost SCTP retransmission stalls. This asks for a
 * bigger buffer on every UDP socket werift opens from now on (best effort: the system caps it,
 * at `net.core.rmem_max` on Linux). Once per process, like the STUN fix above.
 */
export function enlargeWeriftReceiveBuffers(bytes: number): void {
  if (receiveBuffer !== 0) {
    receiveBuffer = Math.max(receiveBuffer, bytes);
    return;
  }
  receiveBuffer = bytes;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- a static, called on the class
  const init = UdpTransport.init;
  UdpTransport.init = async function (...args: Parameters<typeof init>): Promise<UdpTransport> {
    const transport = await init.apply(UdpTransport, args);
    try {
      transport.socket.setRecvBufferSize(receiveBuffer);
    } catch {
      // Refused or capped by the system: werift works as before.
    }
    return transport;
  };
}

/**
 * werift's data channels slow down sharply when a lot sits in their send buffer, and its SCTP
 * takes at most 64 KiB per message. Frames are deflated while the channel is the bottleneck
 * (it usually is: werift moves a few MB/s); the high-water mark is low enough that a sync page
 * fills it, so that the bottleneck shows (measured with `npm run bench -- rtc`).
 */
export const WERIFT_TUNING: DataChannelTuning = {
  messageBytes: 64 * 1024,
  highWaterBytes: 256 * 1024,
  lowWaterBytes: 64 * 1024,
  compress: 'auto',
};

/**
 * werift's host-address options for a machine or namespace that has only loopback (tests,
 * benchmarks): werift skips internal interfaces, so it gathers nothing there unless 127.0.0.1
 * is named; its own interface enumeration is turned off so it stays on loopback anywhere.
 */
export const WERIFT_LOOPBACK: Partial<PeerConfig> = {
  iceAdditionalHostAddresses: ['127.0.0.1'],
  iceUseIpv4: false,
  iceUseIpv6: false,
};

export interface WeriftRtcOptions {
  /**
   * More werift `PeerConfig` options, e.g. `iceAdditionalHostAddresses: ['127.0.0.1']` (werift
   * skips loopback and internal interfaces unless named here), `iceUseIpv6`, `icePortRange`,
   * `iceInterfaceAddresses`. ICE servers come from meshsync's own `iceServers` option.
   */
  config?: Partial<Omit<PeerConfig, 'iceServers'>>;
  tuning?: Partial<DataChannelTuning>;
  /** UDP receive buffer asked for werift's sockets (best effort). @default 4 MiB */
  receiveBufferBytes?: number;
}

/** The werift implementation of the RTC port (pure TypeScript; runs wherever Node does). */
export function weriftRtc(options: WeriftRtcOptions = {}): RtcPort {
  neutraliseWeriftDefaultStun();
  enlargeWeriftReceiveBuffers(options.receiveBufferBytes ?? 4 * 1024 * 1024);
  return {
    name: 'werift',
    tuning: { ...WERIFT_TUNING, ...options.tuning },
    codec: zlibCodec,
    createConnection: (config) => new WeriftConnection(config, options.config ?? {}),
  };
}

function description(d: { type: string; sdp: string } | null | undefined): RtcDescription | null {
  if (!d || (d.type !== 'offer' && d.type !== 'answer')) return null;
  return { type: d.type, sdp: d.sdp };
}

class WeriftConnection implements RtcConnection {
  private readonly pc: RTCPeerConnection;

  constructor(config: RtcConfig, extra: Partial<PeerConfig>) {
    // werift's STUN/TURN options read `urls` as one string; it uses the first of each kind.
    const iceServers = config.iceServers.flatMap((server) =>
      (Array.isArray(server.urls) ? server.urls : [server.urls]).map((urls) => ({
        ...server,
        urls,
      })),
    );
    this.pc = new RTCPeerConnection({ ...extra, iceServers });
  }

  get connectionState(): RtcConnectionState {
    return this.pc.connectionState;
  }

  get iceConnectionState(): string {
    return this.pc.iceConnectionState;
  }

  createDataChannel(label: string): DataChannelLike {
    return asChannel(this.pc.createDataChannel(label, { ordered: true }));
  }

  async offer(): Promise<RtcDescription> {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    return this.local();
  }

  async answer(offer: RtcDescription): Promise<RtcDescription> {
    await this.pc.setRemoteDescription(new RTCSessionDescription(offer.sdp, 'offer'));
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    return this.local();
  }

  async accept(answer: RtcDescription): Promise<void> {
    await this.pc.setRemoteDescription(new RTCSessionDescription(answer.sdp, 'answer'));
  }

  async addCandidate(candidate: RtcCandidate): Promise<void> {
    await this.pc.addIceCandidate({
      candidate: candidate.candidate,
      ...(candidate.sdpMid !== null ? { sdpMid: candidate.sdpMid } : {}),
      ...(candidate.sdpMLineIndex !== null ? { sdpMLineIndex: candidate.sdpMLineIndex } : {}),
    });
  }

  localDescription(): RtcDescription | null {
    return description(this.pc.localDescription);
  }

  remoteDescription(): RtcDescription | null {
    return description(this.pc.remoteDescription);
  }

  onCandidate(listener: (candidate: RtcCandidate | null) => void): () => void {
    const { unSubscribe } = this.pc.onIceCandidate.subscribe((candidate) => {
      if (!candidate?.candidate) return listener(null);
      listener({
        candidate: candidate.candidate,
        sdpMid: candidate.sdpMid ?? null,
        sdpMLineIndex: candidate.sdpMLineIndex ?? null,
      });
    });
    return unSubscribe;
  }

  onDataChannel(listener: (channel: DataChannelLike) => void): () => void {
    return this.pc.onDataChannel.subscribe((channel) => listener(asChannel(channel))).unSubscribe;
  }

  onStateChange(listener: (state: RtcConnectionState) => void): () => void {
    return this.pc.connectionStateChange.subscribe((state) => listener(state)).unSubscribe;
  }

  close(): void {
    void this.pc.close().catch(() => undefined);
  }

  private local(): RtcDescription {
    const local = this.localDescription();
    if (!local) throw new MeshsyncError('BAD_SDP', 'werift set no local description');
    return local;
  }
}

/** werift's RTCDataChannel is an EventTarget with the DOM's events; `send` wants a Buffer. */
function asChannel(channel: RTCDataChannel): DataChannelLike {
  return {
    get label() {
      return channel.label;
    },
    get readyState() {
      return channel.readyState;
    },
    get bufferedAmount() {
      return channel.bufferedAmount;
    },
    get bufferedAmountLowThreshold() {
      return channel.bufferedAmountLowThreshold;
    },
    set bufferedAmountLowThreshold(value: number) {
      channel.bufferedAmountLowThreshold = value;
    },
    send: (data) => channel.send(Buffer.from(data.buffer, data.byteOffset, data.byteLength)),
    close: () => channel.close(),
    addEventListener: (type, listener) => channel.addEventListener(type, listener),
    removeEventListener: (type, listener) => channel.removeEventListener(type, listener),
  };
}
