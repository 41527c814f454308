import { MeshsyncError } from '../../shared/errors.js';
import type { Unsubscribe } from '../../shared/emitter.js';
import {
  MAX_CANDIDATES_PER_SIGNAL,
  type RtcSignal,
  type SignalCandidate,
} from '../../shared/signaling/rtc-signals.js';
import { DataChannelTransport } from './data-channel-transport.js';
import type { DataChannelLike, RtcConnection, RtcIceServer, RtcPort } from './rtc-port.js';
import { sdpFacts } from './sdp-facts.js';

export interface AttemptOptions {
  /** Attempt id (carried by every signal of this attempt). */
  id: string;
  /** The remote device, for reasons. */
  device: string;
  initiator: boolean;
  rtc: RtcPort;
  iceServers: RtcIceServer[];
  timeoutMs: number;
  /** Seals and sends one signal to the remote. */
  send: (signal: RtcSignal) => Promise<void>;
}

export type AttemptStage = 'signaling' | 'ice' | 'channel' | 'open' | 'failed';

/** Local candidates gathered within this window go out in one signal. */
const BATCH_MS = 20;
const LABEL = 'meshsync';

/**
 * One try at a WebRTC connection to one device: creates the peer connection, trades the offer,
 * answer and trickled candidates through `send` / the `on*` methods, and resolves `opened`
 * with a transport once the data channel is open (the transport then owns the connection).
 * It gives up after `timeoutMs` with the stage it was stuck in (werift never reports `failed`
 * on its own when packets are dropped), or at once when the connection fails.
 */
export class RtcAttempt {
  readonly opened: Promise<DataChannelTransport>;
  stage: AttemptStage = 'signaling';
  private readonly pc: RtcConnection;
  private readonly offs: Unsubscribe[] = [];
  private readonly localBatch: SignalCandidate[] = [];
  private readonly remoteQueue: SignalCandidate[] = [];
  private resolve!: (transport: DataChannelTransport) => void;
  private reject!: (error: MeshsyncError) => void;
  private described = false;
  private remoteSet = false;
  private gathered = false;
  private sentDone = false;
  private pendingChannel: DataChannelLike | null = null;
  private batchTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly timer: ReturnType<typeof setTimeout>;
  private transport: DataChannelTransport | null = null;
  private localCount = 0;
  private remoteCount = 0;
  private done = false;

  constructor(private readonly options: AttemptOptions) {
    this.opened = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.opened.catch(() => undefined);
    this.pc = options.rtc.createConnection({ iceServers: options.iceServers });
    this.timer = setTimeout(() => this.timedOut(), options.timeoutMs);
    this.offs.push(
      this.pc.onCandidate((c) => this.onLocalCandidate(c)),
      this.pc.onStateChange((state) => {
        if (state === 'connected' && this.stage === 'ice') this.stage = 'channel';
        if (state === 'failed') {
          this.fail(this.problem('CONNECT_FAILED', `the connection failed: ${this.where()}`));
        }
      }),
      this.pc.onDataChannel((channel) => {
        if (!options.initiator && !this.transport) this.adopt(channel);
      }),
    );
  }

  get id(): string {
    return this.options.id;
  }

  get initiator(): boolean {
    return this.options.initiator;
  }

  /** Offerer: opens the channel and sends the offer. */
  async start(): Promise<void> {
    await this.step(async () => {
      this.pendingChannel = this.pc.createDataChannel(LABEL);
      const offer = await this.pc.offer();
      await this.describe({ v: 1, t: 'offer', a: this.id, sdp: offer.sdp });
    });
  }

  /** Answerer: takes the remote offer and sends the answer. */
  async onOffer(sdp: string): Promise<void> {
    await this.step(async () => {
      this.stage = 'ice';
      const answer = await this.pc.answer({ type: 'offer', sdp });
      this.remoteSet = true;
      await this.describe({ v: 1, t: 'answer', a: this.id, sdp: answer.sdp });
      await this.addQueued();
    });
  }

  /** Offerer: takes the remote answer. */
  async onAnswer(sdp: string): Promise<void> {
    if (!this.options.initiator || this.remoteSet) return;
    await this.step(async () => {
      // Both descriptions known: from here on ICE is what we wait for (werift may fail at once).
      this.stage = 'ice';
      await this.pc.accept({ type: 'answer', sdp });
      this.remoteSet = true;
      if (this.pendingChannel) this.adopt(this.pendingChannel);
      await this.addQueued();
    });
  }

  async onCandidates(candidates: SignalCandidate[]): Promise<void> {
    for (const c of candidates) if (c.candidate !== '') this.remoteQueue.push(c);
    this.remoteCount += candidates.filter((c) => c.candidate !== '').length;
    if (this.remoteSet) await this.step(() => this.addQueued());
  }

  /** Gives up (idempotent); `tell` sends the remote a `bye` with the reason. */
  abort(error: MeshsyncError, tell = false): void {
    if (this.done) return;
    if (tell)
      void this.options
        .send({ v: 1, t: 'bye', a: this.id, reason: error.message.slice(0, 200) })
        .catch(() => undefined);
    this.fail(error);
  }

  private async step(work: () => Promise<void>): Promise<void> {
    if (this.done) return;
    try {
      await work();
    } catch (err) {
      const error =
        err instanceof MeshsyncError
          ? err
          : new MeshsyncError('BAD_SDP', `WebRTC refused a description: ${String(err)}`, {
              cause: err,
            });
      this.abort(error, true);
    }
  }

  private async describe(signal: RtcSignal): Promise<void> {
    await this.options.send(signal);
    this.described = true;
    this.flush();
  }

  private async addQueued(): Promise<void> {
    for (const c of this.remoteQueue.splice(0)) await this.pc.addCandidate(c);
  }

  private onLocalCandidate(candidate: SignalCandidate | null): void {
    if (candidate) {
      this.localBatch.push(candidate);
      this.localCount++;
    } else {
      this.gathered = true;
    }
    if (!this.described) return;
    if (this.gathered) this.flush();
    else this.batchTimer ??= setTimeout(() => this.flush(), BATCH_MS);
  }

  /** Sends the batched local candidates (with `done` once gathering is complete). */
  private flush(): void {
    clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    if (this.done || !this.described) return;
    while (this.localBatch.length > 0 || (this.gathered && !this.sentDone)) {
      const c = this.localBatch.splice(0, MAX_CANDIDATES_PER_SIGNAL);
      const done = this.gathered && this.localBatch.length === 0;
      if (done) this.sentDone = true;
      this.options
        .send({ v: 1, t: 'candidates', a: this.id, c, done })
        .catch((err: unknown) =>
          this.fail(this.problem('CLOSED', `signaling failed: ${String(err)}`)),
        );
    }
  }

  /** The data channel exists: wrap it now (it holds frames from here on), resolve on open. */
  private adopt(channel: DataChannelLike): void {
    try {
      const facts = sdpFacts(this.pc.localDescription(), this.pc.remoteDescription());
      this.transport = new DataChannelTransport({
        channel,
        facts,
        tuning: this.options.rtc.tuning,
        ...(this.options.rtc.codec ? { codec: this.options.rtc.codec } : {}),
        connection: this.pc,
      });
    } catch (err) {
      this.abort(
        err instanceof MeshsyncError ? err : new MeshsyncError('BAD_SDP', String(err)),
        true,
      );
      return;
    }
    const opened = (): void => {
      if (this.done) return;
      this.done = true;
      this.stage = 'open';
      this.cleanup();
      this.resolve(this.transport!);
    };
    if (channel.readyState === 'open') return opened();
    channel.addEventListener('open', opened);
  }

  private timedOut(): void {
    const ms = this.options.timeoutMs;
    this.fail(
      new MeshsyncError(
        'TIMEOUT',
        `no WebRTC connection to ${this.options.device} after ${ms} ms: ${this.where()}`,
        {
          details: { stage: this.stage, device: this.options.device },
        },
      ),
    );
  }

  /** Where the attempt is, in words, for the reason of a failure. */
  private where(): string {
    switch (this.stage) {
      case 'signaling':
        return this.options.initiator
          ? 'no answer came through signaling'
          : 'no offer came through signaling';
      case 'ice':
        return `ICE found no working path (${this.candidates('local')} local, ${this.candidates('remote')} remote candidates, ICE ${this.pc.iceConnectionState})`;
      case 'channel':
        return 'connected, but the data channel did not open (DTLS or SCTP)';
      default:
        return this.stage;
    }
  }

  /** Candidates known on one side: trickled ones, or those in its SDP (werift puts them there). */
  private candidates(side: 'local' | 'remote'): number {
    const description = side === 'local' ? this.pc.localDescription() : this.pc.remoteDescription();
    const inSdp =
      description?.sdp.split('\n').filter((l) => l.startsWith('a=candidate:')).length ?? 0;
    return Math.max(inSdp, side === 'local' ? this.localCount : this.remoteCount);
  }

  private problem(code: 'CLOSED' | 'CONNECT_FAILED', message: string): MeshsyncError {
    return new MeshsyncError(code, message, {
      details: { stage: this.stage, device: this.options.device },
    });
  }

  private fail(error: MeshsyncError): void {
    if (this.done) return;
    this.done = true;
    this.stage = 'failed';
    this.cleanup();
    if (this.transport) this.transport.close(error.message);
    this.pc.close();
    this.reject(error);
  }

  private cleanup(): void {
    clearTimeout(this.timer);
    clearTimeout(this.batchTimer);
    for (const off of this.offs.splice(0)) off();
  }
}
