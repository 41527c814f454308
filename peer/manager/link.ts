import type { Unsubscribe } from '../../shared/emitter.js';
import type { DeviceId } from '../../shared/ids.js';
import { Backoff, type BackoffOptions } from '../signaling/backoff.js';
import type { SyncSession } from '../sync/session.js';
import type { Timers } from '../sync/session-types.js';
import type { PathAttempt } from './ladder.js';
import type { EndpointBook } from './endpoint-book.js';
import type { LinkState, PeerLinkStatus } from './manager-types.js';
import { pathRank } from './paths.js';

/** Who started a session, which decides between two sessions of equal rank. */
export type StartedBy = 'us' | 'them';

/**
 * What the manager knows and runs for one remote device: its session (at most one kept), the
 * state of the ladder, and the timers of reconnects, upgrades, heartbeats and periodic syncs.
 */
export class PeerLink {
  state: LinkState = 'idle';
  session: SyncSession | null = null;
  startedBy: StartedBy | null = null;
  why = 'not connected yet';
  attempts: PathAttempt[] = [];
  connectedAt: number | null = null;
  lastSyncAt: number | null = null;
  retryAt: number | null = null;
  /** The climb in progress, if any. */
  climbing: AbortController | null = null;
  /** Bytes of sessions before the current one. */
  bytesIn = 0;
  bytesOut = 0;
  readonly backoff: Backoff;
  private readonly timers = new Map<string, unknown>();
  private offSession: Unsubscribe[] = [];

  constructor(
    readonly device: DeviceId,
    private readonly clock: Timers,
    backoff: BackoffOptions,
    random: () => number,
  ) {
    this.backoff = new Backoff(backoff, random);
  }

  /** Runs `fn` once after `ms` under `name`, replacing a timer of the same name. */
  schedule(name: string, ms: number, fn: () => void): void {
    this.cancel(name);
    this.timers.set(
      name,
      this.clock.setTimeout(() => {
        this.timers.delete(name);
        fn();
      }, ms),
    );
  }

  cancel(name: string): void {
    const handle = this.timers.get(name);
    if (handle === undefined) return;
    this.clock.clearTimeout(handle);
    this.timers.delete(name);
  }

  has(name: string): boolean {
    return this.timers.has(name);
  }

  /** Takes `session` as the one in use; returns the one it replaces, if any. */
  take(
    session: SyncSession,
    startedBy: StartedBy,
    listeners: Unsubscribe[],
    now: number,
  ): SyncSession | null {
    const previous = this.release();
    this.session = session;
    this.startedBy = startedBy;
    this.offSession = listeners;
    this.state = 'connected';
    this.connectedAt = now;
    this.retryAt = null;
    this.cancel('retry');
    // A climb in progress finishes its step: both devices must see the session it may give, to
    // keep the same one. It takes no further step.
    this.backoff.reset();
    return previous;
  }

  /** Lets go of the current session (not closing it); keeps its byte counts. */
  release(): SyncSession | null {
    const session = this.session;
    if (!session) return null;
    const { bytesIn, bytesOut } = session.status();
    this.bytesIn += bytesIn;
    this.bytesOut += bytesOut;
    for (const off of this.offSession.splice(0)) off();
    this.session = null;
    this.startedBy = null;
    this.connectedAt = null;
    this.cancel('heartbeat');
    this.cancel('sync');
    this.cancel('upgrade');
    return session;
  }

  /** The status line of this device; `localHead` is our store's head. */
  status(context: { localHead: number; book: EndpointBook; online: boolean }): PeerLinkStatus {
    const session = this.session?.status();
    return {
      device: this.device,
      state: this.state,
      transport: session?.transport ?? null,
      why: this.why,
      attempts: [...this.attempts],
      startedBy: this.startedBy,
      connectedAt: this.connectedAt,
      lastSyncAt: this.lastSyncAt,
      retryAt: this.retryAt,
      pendingChanges: session ? Math.max(0, context.localHead - session.cursorOut) : 0,
      bytesIn: this.bytesIn + (session?.bytesIn ?? 0),
      bytesOut: this.bytesOut + (session?.bytesOut ?? 0),
      endpoints: context.book.get(this.device),
      endpointSources: context.book.sources(this.device),
      online: context.online,
    };
  }

  /** The device was revoked: its session closes and nothing is tried again. */
  revoke(): void {
    this.dispose();
    this.release()?.close('device revoked');
    this.state = 'idle';
    this.why = 'revoked';
  }

  /** Stops everything (the manager stops); the session is closed by the caller. */
  dispose(): void {
    this.climbing?.abort();
    this.climbing = null;
    for (const name of [...this.timers.keys()]) this.cancel(name);
  }
}

/**
 * Whether `candidate` should replace `current`. Both devices see the same two sessions and must
 * keep the same one: the better transport wins; between equals, the one started by the device
 * with the smaller id; between sessions started by the same device, the newer.
 */
export function prefers(
  candidate: { session: SyncSession; startedBy: StartedBy },
  current: { session: SyncSession; startedBy: StartedBy },
  self: DeviceId,
  remote: DeviceId,
): boolean {
  const rc = pathRank(candidate.session.transport.kind);
  const rk = pathRank(current.session.transport.kind);
  if (rc !== rk) return rc < rk;
  const starter = (s: StartedBy): DeviceId => (s === 'us' ? self : remote);
  const sc = starter(candidate.startedBy);
  const sk = starter(current.startedBy);
  if (sc !== sk) return sc < sk;
  return true;
}
