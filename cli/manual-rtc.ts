import { DataChannelTransport } from '../peer/rtc/data-channel-transport.js';
import type {
  DataChannelLike,
  RtcConnection,
  RtcIceServer,
  RtcPort,
} from '../peer/rtc/rtc-port.js';
import { sdpFacts } from '../peer/rtc/sdp-facts.js';
import { MeshsyncError } from '../shared/errors.js';
import { compactSdp, rebuildSdp, type CompactSdp } from '../shared/sdp/index.js';

/** Candidates gathered after this long are left out of the token. */
const GATHER_MS = 3000;
const LABEL = 'meshsync';

/**
 * One WebRTC connection set up by hand, with no server: descriptions travel as compact tokens a
 * person pastes (offer token one way, answer token back). Each side waits for its candidates
 * before compacting, since nothing trickles afterwards.
 */
export class ManualRtc {
  private readonly pc: RtcConnection;
  private readonly gathered: Promise<void>;
  private readonly remoteChannel: Promise<DataChannelLike>;
  private channel: DataChannelLike | null = null;

  constructor(
    private readonly port: RtcPort,
    iceServers: RtcIceServer[] = [],
  ) {
    this.pc = port.createConnection({ iceServers });
    this.gathered = new Promise((resolve) => {
      const timer = setTimeout(resolve, GATHER_MS);
      this.pc.onCandidate((c) => {
        if (c !== null) return;
        clearTimeout(timer);
        resolve();
      });
    });
    this.remoteChannel = new Promise((resolve) => this.pc.onDataChannel(resolve));
  }

  /** Offerer: opens the channel, makes the offer, waits for its candidates. */
  async offer(): Promise<CompactSdp> {
    this.channel = this.pc.createDataChannel(LABEL);
    await this.pc.offer();
    return this.local('offer');
  }

  /** Answerer: takes the offer, makes the answer, waits for its candidates. */
  async answer(offer: CompactSdp): Promise<CompactSdp> {
    await this.pc.answer({ type: 'offer', sdp: rebuildSdp(offer) });
    return this.local('answer');
  }

  /** Offerer: takes the answer. */
  async accept(answer: CompactSdp): Promise<void> {
    await this.pc.accept({ type: 'answer', sdp: rebuildSdp(answer) });
  }

  /** The transport over the data channel once it is open (TIMEOUT after `timeoutMs`). */
  async transport(timeoutMs: number): Promise<DataChannelTransport> {
    const channel = this.channel ?? (await this.within(this.remoteChannel, timeoutMs));
    const transport = new DataChannelTransport({
      channel,
      facts: sdpFacts(this.pc.localDescription(), this.pc.remoteDescription()),
      tuning: this.port.tuning,
      ...(this.port.codec ? { codec: this.port.codec } : {}),
      connection: this.pc,
    });
    if (channel.readyState !== 'open') {
      await this.within(
        new Promise<void>((resolve) => channel.addEventListener('open', () => resolve())),
        timeoutMs,
      );
    }
    return transport;
  }

  close(): void {
    this.pc.close();
  }

  private async local(type: 'offer' | 'answer'): Promise<CompactSdp> {
    await this.gathered;
    const description = this.pc.localDescription();
    if (!description) throw new MeshsyncError('BAD_SDP', 'no local description');
    return compactSdp(type, description.sdp);
  }

  private async within<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new MeshsyncError(
              'TIMEOUT',
              `no WebRTC connection after ${timeoutMs} ms (ICE ${this.pc.iceConnectionState})`,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
