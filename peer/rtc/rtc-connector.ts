import { Emitter, type Unsubscribe } from '../../shared/emitter.js';
import { MeshsyncError, toMeshsyncError } from '../../shared/errors.js';
import { toBase32 } from '../../shared/crypto/bytes.js';
import type { DeviceId } from '../../shared/ids.js';
import { silentLogger, type Logger } from '../../shared/log.js';
import { roomKeys, type SignatureCheck } from '../../shared/secure/room.js';
import { openJsonSignal, sealJsonSignal, SignalOpener } from '../../shared/secure/signal-seal.js';
import { isInitiator, parseRtcSignal, type RtcSignal } from '../../shared/signaling/rtc-signals.js';
import type { Mesh } from '../mesh/mesh.js';
import { defaultRandom } from '../replica.js';
import type { SignalingClient } from '../signaling/signaling-client.js';
import type { SyncSession } from '../sync/session.js';
import type { SyncOptions } from '../sync/session-types.js';
import { checkEndpoint, type Endpoint } from '../../shared/token/endpoint.js';
import { RtcAttempt } from './rtc-attempt.js';
import type { RtcIceServer, RtcPort } from './rtc-port.js';

export interface RtcConnectorOptions {
  /** This device's mesh: seals the signals, authenticates every connection. */
  mesh: Mesh;
  /** A client that has joined (or will join) the mesh's room. */
  signaling: SignalingClient;
  /** The WebRTC implementation: `weriftRtc()` / `wrtcRtc()` in Node, `browserRtc()` in browsers. */
  rtc: RtcPort;
  /**
   * STUN and TURN servers, the only hosts WebRTC contacts. None by default: devices on one
   * network connect without any; across NATs give your own (see the README).
   */
  iceServers?: RtcIceServer[];
  /** Give up on a connection that is not open within this. @default 10000 */
  connectTimeoutMs?: number;
  /**
   * The Ed25519 check for opening signals: tweetnacl's by default; in Node pass
   * `nativeEd25519Verify` (from `meshsync/node`), some forty times faster.
   */
  signatureCheck?: SignatureCheck;
  /** Options of the sync sessions run over the connections. */
  sync?: SyncOptions;
  logger?: Logger;
}

export interface RtcConnectorEvents extends Record<string, unknown> {
  /** A connection opened and authenticated (whichever side asked): sync over `session`. */
  session: { device: DeviceId; session: SyncSession };
  /** A connection to or from `device` failed or was refused, and why. */
  failed: { device: DeviceId; error: MeshsyncError };
  /** A member told where it listens for direct connections (a sealed `where` signal). */
  endpoints: { device: DeviceId; endpoints: Endpoint[] };
}

interface Waiter {
  promise: Promise<SyncSession>;
  resolve: (session: SyncSession) => void;
  reject: (error: MeshsyncError) => void;
}

/**
 * WebRTC connections between the members of a mesh, set up through a signaling server. Every
 * offer, answer and candidate is sealed (signed by the device key, encrypted under the mesh
 * secret); a signal that does not open, or is signed by another device than the one the
 * server says sent it, means someone in between tampered: the attempt is refused with
 * AUTH_MITM. The device with the smaller id always offers (the other knocks), so two devices
 * that connect at once make one connection. Each open channel runs the secure handshake,
 * bound to both DTLS fingerprints, then a sync session.
 */
export class RtcConnector {
  private readonly emitter = new Emitter<RtcConnectorEvents>();
  private readonly opener: SignalOpener;
  private readonly room: string;
  private readonly attempts = new Map<DeviceId, RtcAttempt>();
  private readonly sessions = new Map<DeviceId, SyncSession>();
  private readonly waiters = new Map<DeviceId, Waiter>();
  private readonly inbox = new Map<DeviceId, Promise<void>>();
  private readonly offs: Unsubscribe[];
  private readonly log: Logger;
  private stopped = false;

  constructor(private readonly options: RtcConnectorOptions) {
    const timeout = options.connectTimeoutMs ?? 10_000;
    if (!Number.isInteger(timeout) || timeout < 100) {
      throw new MeshsyncError('INVALID_OPTION', 'connectTimeoutMs must be an integer >= 100');
    }
    this.log = options.logger ?? silentLogger;
    this.room = roomKeys(options.mesh.meshSecret).roomId;
    this.opener = new SignalOpener(
      options.mesh.meshSecret,
      options.mesh.device,
      options.signatureCheck ? { check: options.signatureCheck } : {},
    );
    this.offs = [
      options.signaling.on('signal', ({ room, from, data }) => {
        if (room === this.room) this.enqueue(from, data);
      }),
    ];
  }

  get device(): DeviceId {
    return this.options.mesh.device;
  }

  on<K extends keyof RtcConnectorEvents>(
    event: K,
    listener: (payload: RtcConnectorEvents[K]) => void,
  ): Unsubscribe {
    return this.emitter.on(event, listener);
  }

  /** The open session with `device`, if any. */
  session(device: DeviceId): SyncSession | undefined {
    return this.sessions.get(device);
  }

  /**
   * An authenticated sync session with `device` over WebRTC: the one open, the one being set
   * up, or a new one. Rejects with TIMEOUT (and the stage it stopped at), AUTH_MITM, AUTH_* refusals,
   * or CLOSED.
   */
  connect(device: DeviceId): Promise<SyncSession> {
    if (this.stopped) return Promise.reject(new MeshsyncError('CLOSED', 'connector stopped'));
    if (device === this.device) {
      return Promise.reject(
        new MeshsyncError('INVALID_VALUE', 'a device cannot connect to itself'),
      );
    }
    const open = this.sessions.get(device);
    if (open) return Promise.resolve(open);
    const waiter = this.waiter(device);
    if (!this.attempts.has(device)) {
      if (isInitiator(this.device, device)) this.begin(device, newAttemptId(), true);
      else {
        // The other device offers; ask it to. The knock's id names nothing yet.
        const attempt = this.begin(device, newAttemptId(), false);
        void this.send(device, { v: 1, t: 'knock', a: attempt.id }).catch((err: unknown) =>
          attempt.abort(toMeshsyncError(err, 'CLOSED')),
        );
      }
    }
    return waiter.promise;
  }

  /**
   * Tells `device` where this device listens for direct connections, in a sealed signal (only
   * members can read it): the fallback when WebRTC does not work.
   */
  tellEndpoints(device: DeviceId, endpoints: readonly Endpoint[]): Promise<void> {
    if (this.stopped) return Promise.reject(new MeshsyncError('CLOSED', 'connector stopped'));
    const e = endpoints.slice(0, 4).map((x) => {
      checkEndpoint(x);
      return x.tls ? { host: x.host, port: x.port, tls: true } : { host: x.host, port: x.port };
    });
    return this.send(device, { v: 1, t: 'where', e });
  }

  /** Closes every connection and stops listening for signals. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const off of this.offs.splice(0)) off();
    const error = new MeshsyncError('CLOSED', 'connector stopped');
    for (const attempt of this.attempts.values()) attempt.abort(error);
    for (const session of this.sessions.values()) session.close('connector stopped');
  }

  private waiter(device: DeviceId): Waiter {
    let waiter = this.waiters.get(device);
    if (!waiter) {
      let resolve!: Waiter['resolve'];
      let reject!: Waiter['reject'];
      const promise = new Promise<SyncSession>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      waiter = { promise, resolve, reject };
      this.waiters.set(device, waiter);
    }
    return waiter;
  }

  private settle(device: DeviceId, outcome: SyncSession | MeshsyncError): void {
    const waiter = this.waiters.get(device);
    if (!waiter) return;
    this.waiters.delete(device);
    if (outcome instanceof MeshsyncError) waiter.reject(outcome);
    else waiter.resolve(outcome);
  }

  private begin(device: DeviceId, id: string, initiator: boolean): RtcAttempt {
    this.attempts.get(device)?.abort(new MeshsyncError('CLOSED', 'replaced by a newer attempt'));
    const attempt = new RtcAttempt({
      id,
      device,
      initiator,
      rtc: this.options.rtc,
      iceServers: this.options.iceServers ?? [],
      timeoutMs: this.options.connectTimeoutMs ?? 10_000,
      send: (signal) => this.send(device, signal),
    });
    this.attempts.set(device, attempt);
    attempt.opened.then(
      (transport) => void this.authenticate(device, attempt, transport),
      (error: MeshsyncError) => {
        // A replaced attempt fails quietly: its successor answers the waiter.
        if (this.attempts.get(device) !== attempt) return;
        this.attempts.delete(device);
        this.failed(device, error);
      },
    );
    if (initiator) void attempt.start();
    return attempt;
  }

  private async authenticate(
    device: DeviceId,
    attempt: RtcAttempt,
    transport: Awaited<RtcAttempt['opened']>,
  ): Promise<void> {
    try {
      const session = await this.options.mesh.connect(transport, this.options.sync ?? {});
      const remote = session.transport.remoteDevice;
      if (remote !== device) {
        session.close('authenticated another device');
        throw new MeshsyncError(
          'AUTH_MITM',
          `signaling said ${device}, the connection authenticated ${String(remote)}`,
        );
      }
      if (this.attempts.get(device) === attempt) this.attempts.delete(device);
      this.sessions.get(device)?.close('replaced by a new connection');
      this.sessions.set(device, session);
      session.events.on('closed', () => {
        if (this.sessions.get(device) === session) this.sessions.delete(device);
      });
      if (this.stopped) return session.close('connector stopped');
      this.emitter.emit('session', { device, session });
      this.settle(device, session);
    } catch (err) {
      transport.close('handshake failed');
      if (this.attempts.get(device) === attempt) this.attempts.delete(device);
      this.failed(device, toMeshsyncError(err, 'AUTH_FAILED'));
    }
  }

  private failed(device: DeviceId, error: MeshsyncError): void {
    this.log.info('webrtc: connection failed', { device, code: error.code, error: error.message });
    this.emitter.emit('failed', { device, error });
    this.settle(device, error);
  }

  private async send(to: DeviceId, signal: RtcSignal): Promise<void> {
    const { mesh, signaling } = this.options;
    await signaling.signal(
      this.room,
      to,
      sealJsonSignal(mesh.meshSecret, mesh.identity, to, signal),
    );
  }

  /**
   * Signals from one device are handled one after the other, in order: candidates that follow
   * an offer closely must find the attempt the offer starts.
   */
  private enqueue(from: DeviceId, data: string): void {
    const previous = this.inbox.get(from) ?? Promise.resolve();
    const next = previous
      .then(() => this.receive(from, data))
      .catch((err: unknown) => {
        this.log.warn('webrtc: signal not handled', { from, error: String(err) });
      });
    this.inbox.set(from, next);
    void next.then(() => {
      if (this.inbox.get(from) === next) this.inbox.delete(from);
    });
  }

  /** One sealed signal from the server, said to be from `from`. Nothing here trusts the server. */
  private async receive(from: DeviceId, data: string): Promise<void> {
    let signal: RtcSignal;
    try {
      const opened = openJsonSignal(this.opener, data);
      if (opened.from !== from) {
        throw new MeshsyncError(
          'AUTH_MITM',
          `a signal said to be from ${from} is signed by ${opened.from}`,
        );
      }
      signal = parseRtcSignal(opened.value);
    } catch (err) {
      const cause = toMeshsyncError(err, 'BAD_SEAL');
      const error =
        cause.code === 'BAD_SEAL'
          ? new MeshsyncError(
              'AUTH_MITM',
              `a signal said to be from ${from} was altered or forged on the way (${cause.message})`,
              { cause },
            )
          : cause;
      return this.refuse(from, error);
    }
    if (this.stopped) return;
    const attempt = this.attempts.get(from);
    switch (signal.t) {
      case 'knock':
        if (!isInitiator(this.device, from)) return this.refuse(from, misrouted('knock'));
        if (attempt || !(await this.admits(from))) return;
        // A knock while connected means the other side lost the connection: start anew.
        this.sessions.get(from)?.close('the other device asked for a new connection');
        this.begin(from, newAttemptId(), true);
        return;
      case 'offer': {
        if (isInitiator(this.device, from)) return this.refuse(from, misrouted('offer'));
        if (attempt?.id === signal.a || !(await this.admits(from))) return;
        // Ours was only a knock, or is stale: the offer (the other side's newest) wins.
        const answering = this.begin(from, signal.a, false);
        await answering.onOffer(signal.sdp);
        return;
      }
      case 'answer':
        if (attempt?.id === signal.a) await attempt.onAnswer(signal.sdp);
        return;
      case 'candidates':
        if (attempt?.id === signal.a) await attempt.onCandidates(signal.c);
        return;
      case 'bye':
        if (attempt?.id === signal.a) {
          attempt.abort(new MeshsyncError('REMOTE_ERROR', `${from} gave up: ${signal.reason}`));
        }
        return;
      case 'where': {
        if (!(await this.options.mesh.admits(from))) return;
        const endpoints: Endpoint[] = [];
        for (const e of signal.e) {
          try {
            endpoints.push(checkEndpoint(e));
          } catch {
            // an address that is not one: skip it
          }
        }
        this.emitter.emit('endpoints', { device: from, endpoints });
        return;
      }
    }
  }

  /** A refused signal: fails the attempt with `from` if there is one, and says so. */
  private refuse(from: DeviceId, error: MeshsyncError): void {
    this.log.warn('webrtc: signal refused', { from, code: error.code, error: error.message });
    const attempt = this.attempts.get(from);
    if (attempt) attempt.abort(error, true);
    else this.failed(from, error);
  }

  private async admits(device: DeviceId): Promise<boolean> {
    if (await this.options.mesh.admits(device)) return true;
    this.failed(
      device,
      new MeshsyncError(
        'AUTH_UNKNOWN_DEVICE',
        `${device} is not a member of this mesh (or was revoked)`,
      ),
    );
    return false;
  }
}

function misrouted(kind: string): MeshsyncError {
  return new MeshsyncError('PROTOCOL_STATE', `a ${kind} from the device that should answer`);
}

function newAttemptId(): string {
  return toBase32(defaultRandom(10)).toLowerCase();
}
