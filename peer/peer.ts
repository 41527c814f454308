import { Emitter, type Unsubscribe } from '../shared/emitter.js';
import { MeshsyncError } from '../shared/errors.js';
import type { DeviceId } from '../shared/ids.js';
import type { JsonObject, JsonValue } from '../shared/json.js';
import type { ConflictEntry } from '../shared/record.js';
import { Collection } from './collection.js';
import { Replica, changeEvents, type ChangeEvent, type ReplicaOptions } from './replica.js';
import { SyncSession } from './sync/session.js';
import type { SessionStatus, SyncOptions } from './sync/session-types.js';
import type { Transport } from './transport/transport-port.js';

export interface PeerOptions extends ReplicaOptions {
  /** Defaults for every sync session of this peer. */
  sync?: SyncOptions;
}

export interface PeerStatus {
  device: DeviceId;
  /** Sessions that finished their handshake. */
  connected: number;
  sessions: SessionStatus[];
}

export interface PeerEvents extends Record<string, unknown> {
  change: ChangeEvent;
  conflict: ConflictEntry;
  session: SyncSession;
  status: PeerStatus;
}

/** How to settle a logged conflict. */
export type ConflictResolution = 'keep-winner' | 'take-loser' | { value: JsonValue | undefined };

/**
 * A meshsync peer: one device's data plus its sync sessions. Isomorphic: platform pieces
 * (store, transports) are injected.
 */
export class Peer {
  readonly events = new Emitter<PeerEvents>();
  private readonly sessions = new Set<SyncSession>();
  private readonly offReplica: Unsubscribe[];
  private stopped = false;

  constructor(
    readonly replica: Replica,
    private readonly syncDefaults: SyncOptions = {},
  ) {
    this.offReplica = [
      replica.events.on('conflict', (conflict) => this.events.emit('conflict', conflict)),
      // Sessions announced the old epoch: close them so they reconnect with the new one.
      replica.events.on('epoch', () => {
        for (const session of this.sessions) session.close('store epoch rotated');
      }),
      replica.events.on('applied', (batch) => {
        for (const session of this.sessions) {
          if (session.remoteOrigin !== batch.origin) session.notifyChanged(batch.seq);
        }
        if (this.events.listenerCount('change') === 0) return;
        for (const change of changeEvents(batch)) this.events.emit('change', change);
      }),
    ];
  }

  get device(): DeviceId {
    return this.replica.device;
  }

  collection<T extends JsonObject = JsonObject>(name: string): Collection<T> {
    return new Collection<T>(this.replica, name);
  }

  /** Runs a sync session over `transport`; the other side does the same with its end. */
  connect(transport: Transport, options: SyncOptions = {}): SyncSession {
    if (this.stopped) throw new MeshsyncError('CLOSED', 'peer is stopped');
    const session = new SyncSession(this.replica, transport, { ...this.syncDefaults, ...options });
    this.sessions.add(session);
    const emitStatus = (): void => this.events.emit('status', this.status());
    session.events.on('ready', emitStatus);
    session.events.on('synced', emitStatus);
    session.events.on('closed', () => {
      this.sessions.delete(session);
      emitStatus();
    });
    this.events.emit('session', session);
    return session.start();
  }

  status(): PeerStatus {
    const sessions = [...this.sessions].map((s) => s.status());
    return {
      device: this.device,
      connected: sessions.filter((s) => s.state === 'ready').length,
      sessions,
    };
  }

  conflicts(): Promise<ConflictEntry[]> {
    return this.replica.conflicts();
  }

  /** Settles a conflict: keep the current value, bring back the losing one, or set a new one. */
  async resolveConflict(key: string, resolution: ConflictResolution): Promise<void> {
    const entry = (await this.replica.conflicts()).find((c) => c.key === key);
    if (!entry) throw new MeshsyncError('NOT_FOUND', 'no such conflict');
    if (resolution !== 'keep-winner') {
      const value = resolution === 'take-loser' ? entry.loser.v : resolution.value;
      const collection = this.collection(entry.collection);
      if ((await collection.get(entry.id)) !== null) {
        await collection.patch(entry.id, { [entry.field]: value });
      }
    }
    await this.replica.store.removeConflict(key);
  }

  /** Closes every session and the store. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const session of this.sessions) session.close('peer stopped');
    for (const off of this.offReplica) off();
    await this.replica.store.close();
  }
}

/** Opens the store and returns a peer ready to connect. */
export async function createPeer(options: PeerOptions): Promise<Peer> {
  const replica = await Replica.open(options);
  return new Peer(replica, options.sync);
}
