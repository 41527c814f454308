import { Emitter, type Unsubscribe } from '../../shared/emitter.js';
import { MeshsyncError } from '../../shared/errors.js';
import type { DeviceId } from '../../shared/ids.js';
import { silentLogger, type Logger } from '../../shared/log.js';
import { roomKeys } from '../../shared/secure/room.js';
import type { Endpoint } from '../../shared/token/endpoint.js';
import { MEMBERS, readMember } from '../mesh/member-record.js';
import type { SyncSession } from '../sync/session.js';
import { realTimers, type SyncOptions, type Timers } from '../sync/session-types.js';
import { EndpointAnnouncer } from './endpoint-announcer.js';
import { EndpointBook, type EndpointSource } from './endpoint-book.js';
import { checkPositive, Upkeep } from './upkeep.js';
import { climb, summarise } from './ladder.js';
import { PeerLink, prefers, type StartedBy } from './link.js';
import type {
  MeshManagerEvents,
  MeshManagerOptions,
  MeshManagerStatus,
  PeerLinkStatus,
} from './manager-types.js';
import { directPath, pathRank, rtcPath, type PathOpener } from './paths.js';
import { followSources } from './sources.js';

/**
 * Keeps this device connected to and in sync with the other members of its mesh. Per device it
 * climbs the ladder WebRTC -> WebSocket -> HTTP (each rung after the one before failed, was not
 * possible or timed out; the reasons kept), retries better paths later, checks idle sessions
 * with a heartbeat, reconnects with backoff and jitter, and keeps at most `maxPeers` devices.
 * Syncs on connect, on local changes (the session's "changed" notice) and periodically.
 */
export class MeshManager {
  readonly book = new EndpointBook();
  private readonly emitter = new Emitter<MeshManagerEvents>();
  private readonly links = new Map<DeviceId, PeerLink>();
  private readonly paths: PathOpener[] = [];
  private readonly offs: Unsubscribe[] = [];
  private readonly timers: Timers;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly log: Logger;
  private readonly sync: SyncOptions;
  private readonly upkeep: Upkeep;
  private readonly room: string;
  private readonly o: { maxPeers: number; connectTimeoutMs: number; upgradeRetryMs: number };
  private readonly announcer: EndpointAnnouncer;
  private localHead = 0;
  private started = false;
  private stopped = false;
  private statusQueued = false;

  constructor(private readonly options: MeshManagerOptions) {
    const { mesh, rtc, signaling, dialer } = options;
    if (rtc && !signaling) {
      throw new MeshsyncError('INVALID_OPTION', 'rtc needs the signaling client it uses');
    }
    this.o = {
      maxPeers: checkPositive('maxPeers', options.maxPeers, 16),
      connectTimeoutMs: checkPositive('connectTimeoutMs', options.connectTimeoutMs, 10_000),
      upgradeRetryMs: checkPositive('upgradeRetryMs', options.upgradeRetryMs, 60_000),
    };
    this.timers = options.timers ?? realTimers;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.log = options.logger ?? silentLogger;
    this.sync = options.sync ?? {};
    this.room = roomKeys(mesh.meshSecret).roomId;
    this.announcer = new EndpointAnnouncer(mesh, options.endpoints, rtc, this.log);
    this.upkeep = new Upkeep({
      everyMs: checkPositive('heartbeatMs', options.heartbeatMs, 15_000),
      timeoutMs: checkPositive('heartbeatTimeoutMs', options.heartbeatTimeoutMs, 10_000),
      syncIntervalMs: checkPositive('syncIntervalMs', options.syncIntervalMs, 300_000),
      timers: this.timers,
      log: this.log,
    });
    if (rtc && signaling) this.paths.push(rtcPath(rtc, signaling, this.room));
    if (dialer) {
      const context = { mesh, dialer, book: this.book, sync: this.sync };
      this.paths.push(directPath('websocket', context), directPath('http', context));
    }
  }

  get device(): DeviceId {
    return this.options.mesh.device;
  }

  on<K extends keyof MeshManagerEvents>(
    event: K,
    listener: (payload: MeshManagerEvents[K]) => void,
  ): Unsubscribe {
    return this.emitter.on(event, listener);
  }

  /** Starts following candidates and connecting. Idempotent. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const { mesh, signaling } = this.options;
    const peer = mesh.peer;
    this.localHead = await peer.replica.store.lastSeq();
    this.offs.push(
      peer.replica.events.on('applied', (batch) => {
        this.localHead = Math.max(this.localHead, batch.seq);
        this.queueStatus();
      }),
      await this.book.follow(peer, (device) => this.kick(device)),
      peer.collection(MEMBERS).subscribe((change) => this.onMember(change.id, change.value)),
    );
    this.offs.push(
      ...followSources(this.device, this.room, this.options, {
        seen: (device) => {
          this.announcer.tell(device);
          this.kick(device);
        },
        gone: (device) => {
          this.announcer.forget(device);
          this.queueStatus();
        },
        session: (device, session, by) => this.adopt(device, session, by),
        endpoints: (device, endpoints) => {
          this.announcer.tell(device);
          if (this.book.set(device, endpoints, 'signaling')) this.kick(device);
        },
      }),
    );
    await this.announcer.publish(this.now());
    for (const device of this.book.devices()) this.kick(device);
    if (signaling) {
      for (const device of signaling.members(this.room)) {
        this.announcer.tell(device);
        this.kick(device);
      }
    }
  }

  /** Closes every session the manager keeps and stops all timers. Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const off of this.offs.splice(0)) off();
    for (const link of this.links.values()) {
      link.dispose();
      link.release()?.close('manager stopped');
    }
  }

  /** Direct endpoints of a device the application knows (dialed before any other source). */
  addEndpoints(device: DeviceId, endpoints: Endpoint[], source: EndpointSource = 'manual'): void {
    this.book.set(device, endpoints, source);
    this.kick(device, true);
  }

  /** Forgets what `source` said about `device` (an mDNS goodbye, say); its session stays. */
  removeEndpoints(device: DeviceId, source: EndpointSource): void {
    if (this.book.set(device, [], source)) this.queueStatus();
  }

  /** A connection string (`meshsync://host:port?id=...`): connects to that device. */
  addConnectionString(text: string): DeviceId {
    const device = this.book.addConnectionString(text);
    this.kick(device, true);
    return device;
  }

  /** An invite or offer token: connects to the device that made it, at its endpoints. */
  addToken(text: string): DeviceId {
    const device = this.book.addToken(text, this.now());
    this.kick(device, true);
    return device;
  }

  /** Tries `device` now, skipping any backoff wait. */
  connect(device: DeviceId): void {
    this.kick(device, true);
  }

  /** The session in use with `device`, if any. */
  session(device: DeviceId): SyncSession | null {
    return this.links.get(device)?.session ?? null;
  }

  status(): MeshManagerStatus {
    const peers = [...this.links.values()].map((link) => this.linkStatus(link));
    const connected = peers.filter((p) => p.state === 'connected').length;
    return {
      device: this.device,
      connected,
      summary: `connected to ${connected} device${connected === 1 ? '' : 's'}`,
      peers,
    };
  }

  // ---- connecting ------------------------------------------------------------------------

  private link(device: DeviceId): PeerLink {
    let link = this.links.get(device);
    if (!link) {
      link = new PeerLink(
        device,
        this.timers,
        { initialMs: 1000, maxMs: 60_000, ...this.options.backoff },
        this.random,
      );
      this.links.set(device, link);
    }
    return link;
  }

  private busy(): number {
    let n = 0;
    for (const link of this.links.values()) {
      if (link.state === 'connected' || link.state === 'connecting') n++;
    }
    return n;
  }

  /** Connects to `device` unless connected or connecting; `now` skips a backoff wait. */
  private kick(device: DeviceId, now = false): void {
    if (!this.started || this.stopped || device === this.device) return;
    const link = this.link(device);
    if (link.state === 'connected' || link.state === 'connecting') return;
    if (link.state === 'waiting' && link.has('retry') && !now) return;
    void this.round(link);
  }

  /** One climb of the ladder for `link`. */
  private async round(link: PeerLink): Promise<void> {
    link.cancel('retry');
    if (!(await this.mayConnect(link))) return;
    if (this.busy() >= this.o.maxPeers) {
      this.wait(link, `at most ${this.o.maxPeers} devices at once (maxPeers)`, null);
      return;
    }
    const control = new AbortController();
    link.climbing = control;
    link.state = 'connecting';
    link.attempts = [];
    this.queueStatus();
    const result = await climb(link.device, this.paths, {
      stepTimeoutMs: this.o.connectTimeoutMs,
      signal: control.signal,
      timers: this.timers,
      now: this.now,
      onStep: (attempt) => {
        link.attempts.push(attempt);
        this.queueStatus();
      },
      goOn: () => link.session === null,
    });
    if (link.climbing === control) link.climbing = null;
    if (this.stopped) {
      result.session?.close('manager stopped');
      return;
    }
    if (result.session) {
      this.adopt(link.device, result.session, 'us', summarise(result.attempts));
    } else if (link.state === 'connecting') {
      const tried = result.attempts.some((a) => a.outcome === 'failed');
      const why = result.attempts.length
        ? summarise(result.attempts)
        : 'no way to reach it: no WebRTC and no direct dialer configured';
      this.wait(link, why, tried || result.attempts.length > 0 ? link.backoff.next() : null);
    }
  }

  private async mayConnect(link: PeerLink): Promise<boolean> {
    const sources = this.book.sources(link.device);
    const asked = sources.some((s) => s !== 'mesh' && s !== 'mdns' && s !== 'signaling');
    if (asked || (await this.options.mesh.admits(link.device))) return true;
    link.state = 'idle';
    link.why = 'not a member of this mesh (or revoked)';
    this.queueStatus();
    return false;
  }

  /** Waits `ms` (null: until something changes) before the next round. */
  private wait(link: PeerLink, why: string, ms: number | null): void {
    link.state = 'waiting';
    link.why = why;
    link.retryAt = ms === null ? null : this.now() + ms;
    if (ms !== null) link.schedule('retry', ms, () => void this.round(link));
    this.queueStatus();
    this.log.info('mesh manager: waiting', { device: link.device, why, retryMs: ms });
  }

  // ---- sessions --------------------------------------------------------------------------

  /** Keeps `session` with `device` if it is the better one; closes whichever is not kept. */
  private adopt(device: DeviceId, session: SyncSession, by: StartedBy, why?: string): void {
    if (this.stopped || device === this.device) {
      session.close('manager stopped');
      return;
    }
    const link = this.link(device);
    if (link.session === session) return;
    if (session.state === 'closed') return;
    if (link.session && link.startedBy) {
      const current = { session: link.session, startedBy: link.startedBy };
      if (!prefers({ session, startedBy: by }, current, this.device, device)) {
        session.close(`kept the ${link.session.transport.kind} session`);
        return;
      }
    } else if (this.busy() >= this.o.maxPeers && link.state !== 'connecting') {
      session.close(`at most ${this.o.maxPeers} devices at once`);
      return;
    }
    const kind = session.transport.kind;
    const listeners = [
      session.events.on('closed', ({ reason }) => this.lost(link, session, reason)),
      session.events.on('synced', () => {
        link.lastSyncAt = this.now();
        this.queueStatus();
      }),
    ];
    const previous = link.take(session, by, listeners, this.now());
    link.why = why ?? `${kind}: started by the other device`;
    previous?.close(`moved to ${kind}`);
    this.upkeep.watch(link, session, (reason) => session.close(reason));
    this.upkeep.syncEvery(link, session);
    this.planUpgrade(link);
    this.emitter.emit('session', { device, session });
    this.emitter.emit('peer', this.linkStatus(link));
    this.queueStatus();
    this.log.info('mesh manager: connected', { device, transport: kind, why: link.why });
  }

  private lost(link: PeerLink, session: SyncSession, reason: string): void {
    if (link.session !== session || this.stopped) return;
    link.release();
    const kind = session.transport.kind;
    this.wait(link, `lost the ${kind} session: ${reason}`, link.backoff.next());
    this.emitter.emit('peer', this.linkStatus(link));
    for (const other of this.links.values()) {
      if (other.state === 'waiting' && other.retryAt === null) this.kick(other.device);
    }
  }

  /** On a worse path than the best configured one: try the better ones again later. */
  private planUpgrade(link: PeerLink): void {
    const current = link.session;
    if (!current) return;
    const better = this.paths.filter((p) => pathRank(p.kind) < pathRank(current.transport.kind));
    if (better.length === 0) return;
    link.schedule('upgrade', this.o.upgradeRetryMs, () => void this.upgrade(link, better));
  }

  private async upgrade(link: PeerLink, better: PathOpener[]): Promise<void> {
    const current = link.session;
    if (!current) return;
    if (link.climbing) {
      this.planUpgrade(link); // a climb is under way: look again later
      return;
    }
    const control = new AbortController();
    link.climbing = control;
    const result = await climb(link.device, better, {
      stepTimeoutMs: this.o.connectTimeoutMs,
      signal: control.signal,
      timers: this.timers,
      now: this.now,
    });
    if (link.climbing === control) link.climbing = null;
    if (result.session) {
      this.adopt(link.device, result.session, 'us', `moved up: ${summarise(result.attempts)}`);
      return;
    }
    if (link.session === current) {
      const base = link.why.split(' | retried ')[0] ?? link.why;
      link.why = `${base} | retried ${summarise(result.attempts)}`;
      this.queueStatus();
      this.planUpgrade(link);
    }
  }

  private onMember(device: string, value: unknown): void {
    const member = readMember(device, value as Parameters<typeof readMember>[1]);
    const link = this.links.get(device as DeviceId);
    if (member && member.revokedAt === undefined) this.kick(device as DeviceId);
    else if (link && member?.revokedAt !== undefined) {
      link.revoke();
      this.queueStatus();
    }
  }

  // ---- status ----------------------------------------------------------------------------

  private linkStatus(link: PeerLink): PeerLinkStatus {
    const online = this.options.signaling?.members(this.room).includes(link.device) ?? false;
    return link.status({ localHead: this.localHead, book: this.book, online });
  }

  private queueStatus(): void {
    if (this.statusQueued || this.stopped) return;
    this.statusQueued = true;
    this.timers.setTimeout(() => {
      this.statusQueued = false;
      if (!this.stopped) this.emitter.emit('status', this.status());
    }, 0);
  }
}
