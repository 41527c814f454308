import { networkInterfaces } from 'node:os';
import { acceptsMeshTag, currentMeshTag } from '../../../shared/discovery/mesh-tag.js';
import { Emitter, type Unsubscribe } from '../../../shared/emitter.js';
import { MeshsyncError } from '../../../shared/errors.js';
import { silentLogger, type Logger } from '../../../shared/log.js';
import { realTimers, type Timers } from '../../sync/session-types.js';
import type {
  IgnoredReason,
  LanDiscoveryEvents,
  LanDiscoveryOptions,
  LanDiscoveryStatus,
  LanPeer,
} from './discovery-types.js';
import { interfaceKey, onLink, pickInterfaces, type LanInterface } from './lan-interfaces.js';
import { MemberTable } from './member-table.js';
import { multicastDnsSocket, type MdnsReceived, type MdnsSocket } from './mdns-socket.js';
import {
  asksForService,
  MAX_PACKET_BYTES,
  readAnnouncements,
  type Announcement,
} from './read-announcements.js';
import { browseQuestions, enumerationRecord, serviceRecords } from './service-records.js';

/** mDNS on one interface, with its own start burst and answer pacing. */
interface Link {
  iface: LanInterface;
  key: string;
  socket: MdnsSocket;
  timers: unknown[];
  answerTimer: unknown;
  lastAnswerAt: number;
  /** The port last announced here: the goodbye repeats it (the listener may be gone by then). */
  announced: number | null;
}

/** The start burst: announce and browse at once, then after 1 s and 3 s (RFC 6762 section 8.3). */
const BURST_MS = [0, 1000, 3000];
/** Responses to queries: a random 20-120 ms delay, at most one a second per interface. */
const ANSWER_DELAY_MS = [20, 120] as const;
const ANSWER_GAP_MS = 1000;
const SWEEP_MS = 1000;

const noIgnored = (): Record<IgnoredReason, number> => ({
  undecodable: 0,
  'too-large': 0,
  'too-many-records': 0,
  malformed: 0,
  'other-version': 0,
  'wrong-tag': 0,
  'off-link': 0,
});

/**
 * Finds the other members of a mesh on the LAN with mDNS / DNS-SD (`_meshsync._tcp.local`) and
 * tells the mesh manager where they listen, with no signaling server needed. Announces this
 * device's direct listener (device id, port, a mesh tag that changes every period; never the
 * mesh secret, and its name only when `announceName` is given) on every suitable interface,
 * answers queries, browses, follows interfaces that come and go, and says goodbye on stop.
 * Only announcements with a valid tag of this mesh are used; everything received is checked.
 */
export class LanDiscovery {
  private readonly emitter = new Emitter<LanDiscoveryEvents>();
  private readonly links = new Map<string, Link>();
  private readonly members: MemberTable;
  private readonly ignored = noIgnored();
  private readonly timers: Timers;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly log: Logger;
  private readonly o: {
    ttl: number;
    period: number;
    announceMs: number;
    queryMs: number;
    checkMs: number;
  };
  private readonly loops = new Map<string, unknown>();
  private state: 'new' | 'running' | 'stopped' = 'new';
  private sent = 0;
  private received = 0;
  private lastError: string | null = null;

  constructor(private readonly options: LanDiscoveryOptions) {
    const ttl = whole('ttlSeconds', options.ttlSeconds, 120, 1, 4500);
    this.o = {
      ttl,
      period: whole('tagPeriodSeconds', options.tagPeriodSeconds, 3600, 1, 2 ** 31),
      announceMs: whole('announceIntervalMs', options.announceIntervalMs, ttl * 500, 100, 2 ** 31),
      queryMs: whole('queryIntervalMs', options.queryIntervalMs, 60_000, 100, 2 ** 31),
      checkMs: whole('interfaceCheckMs', options.interfaceCheckMs, 5000, 100, 2 ** 31),
    };
    if (options.port !== undefined) whole('port', options.port, 0, 1, 65535);
    else if (!options.listener) {
      throw new MeshsyncError('INVALID_OPTION', 'LanDiscovery needs a listener or a port');
    }
    this.timers = options.timers ?? realTimers;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.log = options.logger ?? silentLogger;
    this.members = new MemberTable(this.emitter, options.manager, this.log);
  }

  on<K extends keyof LanDiscoveryEvents>(
    event: K,
    listener: (payload: LanDiscoveryEvents[K]) => void,
  ): Unsubscribe {
    return this.emitter.on(event, listener);
  }

  /** Opens mDNS on the interfaces, announces and browses. Idempotent. */
  async start(): Promise<void> {
    if (this.state !== 'new') return;
    this.state = 'running';
    this.checkInterfaces();
    this.loop('interfaces', this.o.checkMs, () => this.checkInterfaces());
    this.loop('sweep', SWEEP_MS, () => this.members.sweep(this.now()));
    this.loop('announce', this.o.announceMs, () => this.eachLink((l) => this.announce(l)));
    this.loop('browse', this.o.queryMs, () => this.eachLink((l) => this.browse(l)));
  }

  /** Says goodbye on every interface, closes the sockets and forgets what was found. Idempotent. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    const wasRunning = this.state === 'running';
    this.state = 'stopped';
    for (const handle of this.loops.values()) this.timers.clearTimeout(handle);
    this.loops.clear();
    const links = [...this.links.values()];
    this.links.clear();
    if (wasRunning) await Promise.all(links.map((link) => this.close(link, true)));
    this.members.clear('stopped');
  }

  /** The members found now. */
  peers(): LanPeer[] {
    return this.members.list();
  }

  status(): LanDiscoveryStatus {
    return {
      running: this.state === 'running',
      interfaces: [...this.links.values()].map((l) => `${l.iface.name}/${l.iface.address}`),
      peers: this.peers(),
      ignored: { ...this.ignored },
      sent: this.sent,
      received: this.received,
      lastError: this.lastError,
    };
  }

  // ---- interfaces ------------------------------------------------------------------------

  private checkInterfaces(): void {
    if (this.state !== 'running') return;
    const table = (this.options.networkInterfaces ?? networkInterfaces)();
    const wanted = new Map(
      pickInterfaces(table, this.options.interfaces).map((i) => [interfaceKey(i), i]),
    );
    for (const [key, link] of this.links) {
      if (wanted.has(key)) continue;
      this.links.delete(key);
      void this.close(link, true);
      this.members.dropVia(key);
    }
    for (const [key, iface] of wanted) if (!this.links.has(key)) this.open(key, iface);
  }

  private open(key: string, iface: LanInterface): void {
    const open = this.options.openSocket ?? multicastDnsSocket();
    let link: Link | null = null;
    let socket: MdnsSocket;
    try {
      socket = open(iface, {
        packet: (received) => link && this.onPacket(link, received),
        undecodable: () => this.ignore('undecodable'),
        error: (err) => this.onSocketError(link, err),
      });
    } catch (err) {
      this.onSocketError(null, err);
      return;
    }
    link = { iface, key, socket, timers: [], answerTimer: null, lastAnswerAt: 0, announced: null };
    const opened = link;
    this.links.set(key, opened);
    this.log.info('lan discovery: interface up', { interface: key });
    for (const ms of BURST_MS) {
      opened.timers.push(
        this.timers.setTimeout(() => {
          void this.announce(opened);
          this.browse(opened);
        }, ms),
      );
    }
  }

  private async close(link: Link, goodbye: boolean): Promise<void> {
    for (const handle of link.timers.splice(0)) this.timers.clearTimeout(handle);
    if (link.answerTimer !== null) this.timers.clearTimeout(link.answerTimer);
    if (goodbye) await this.announce(link, 0);
    await link.socket.close();
  }

  private onSocketError(link: Link | null, err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    this.lastError = error.message;
    this.log.warn('lan discovery: socket error', { message: error.message });
    const code = (error as { code?: string }).code;
    // A socket that cannot bind is useless: drop it, and the next interface check tries again.
    if (link && (code === 'EADDRINUSE' || code === 'EACCES') && this.links.get(link.key) === link) {
      this.links.delete(link.key);
      void this.close(link, false);
    }
  }

  // ---- sending ---------------------------------------------------------------------------

  /** Announces on `link` (with `ttl` 0: the goodbye). Never throws. */
  private async announce(link: Link, ttl = this.o.ttl, enumeration = false): Promise<void> {
    const port = ttl === 0 ? link.announced : this.port(link);
    if (port === null) return; // nothing to announce here, or (goodbye) nothing announced
    if (ttl > 0) link.announced = port;
    const device = this.options.mesh.device;
    const records = serviceRecords({
      device,
      port,
      tag: currentMeshTag(this.options.mesh.meshSecret, device, this.now(), this.o.period),
      address: link.iface.address,
      ttl,
      ...(this.options.announceName !== undefined ? { name: this.options.announceName } : {}),
    });
    if (enumeration) records.push(enumerationRecord(ttl));
    await this.send(() => link.socket.respond(records));
  }

  private browse(link: Link): void {
    void this.send(() => link.socket.query(browseQuestions()));
  }

  private async send(how: () => Promise<void>): Promise<void> {
    try {
      this.sent++;
      await how();
    } catch (err) {
      this.lastError = err instanceof Error ? err.message : String(err);
    }
  }

  /** The port to announce on `link`, or null (no port; or the listener is not on `link`). */
  private port(link: Link): number | null {
    const { port, listener } = this.options;
    if (port !== undefined) return port;
    const endpoints = listener?.endpoints() ?? [];
    const here = endpoints.find((e) => e.host === link.iface.address);
    return here ? here.port : null;
  }

  /** Answers a query after a short random delay, at most once a second per interface. */
  private answerSoon(link: Link): void {
    if (link.answerTimer !== null) return;
    const [min, max] = ANSWER_DELAY_MS;
    const delay = Math.max(
      min + this.random() * (max - min),
      link.lastAnswerAt + ANSWER_GAP_MS - this.now(),
    );
    link.answerTimer = this.timers.setTimeout(() => {
      link.answerTimer = null;
      link.lastAnswerAt = this.now();
      if (this.links.get(link.key) === link) void this.announce(link, this.o.ttl, true);
    }, delay);
  }

  // ---- receiving -------------------------------------------------------------------------

  private onPacket(link: Link, { packet, address, size }: MdnsReceived): void {
    if (this.links.get(link.key) !== link) return;
    if (!onLink(link.iface, address)) {
      // Every socket hears every interface: the one whose subnet it is takes it.
      const owner = [...this.links.values()].some((l) => onLink(l.iface, address));
      if (!owner) this.ignore('off-link');
      return;
    }
    this.received++;
    if (size > MAX_PACKET_BYTES) return this.ignore('too-large');
    if (asksForService(packet, this.options.mesh.device)) return this.answerSoon(link);
    const read = readAnnouncements(packet);
    if (read === 'not-a-packet') return;
    if (read === 'too-many-records') return this.ignore('too-many-records');
    this.ignored.malformed += read.malformed;
    this.ignored['other-version'] += read.otherVersion;
    for (const announcement of read.announcements) this.take(link, address, announcement);
  }

  private take(link: Link, from: string, a: Announcement): void {
    const { mesh } = this.options;
    if (a.device === mesh.device) return;
    if (!acceptsMeshTag(mesh.meshSecret, a.device, a.tag, this.now(), this.o.period)) {
      return this.ignore('wrong-tag');
    }
    this.members.take(a, from, link.iface, link.key, this.now());
  }

  private ignore(reason: IgnoredReason): void {
    this.ignored[reason]++;
  }

  // ---- timers ----------------------------------------------------------------------------

  /** Runs `fn` every `ms` until stopped. */
  private loop(name: string, ms: number, fn: () => unknown): void {
    const tick = (): void => {
      if (this.state !== 'running') return;
      void fn();
      this.loops.set(name, this.timers.setTimeout(tick, ms));
    };
    this.loops.set(name, this.timers.setTimeout(tick, ms));
  }

  private eachLink(fn: (link: Link) => unknown): void {
    for (const link of this.links.values()) void fn(link);
  }
}

function whole(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < min || v > max) {
    throw new MeshsyncError(
      'INVALID_OPTION',
      `${name} must be a whole number ${min}-${max}, got ${v}`,
    );
  }
  return v;
}
