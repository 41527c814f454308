import { Emitter } from '../shared/emitter.js';
import { MeshsyncError } from '../shared/errors.js';
import { LIMITS } from '../shared/limits.js';
import { encodeRow } from '../shared/protocol/wire-row.js';
import { Hlc, isStamp, type Stamp } from '../shared/hlc.js';
import { exportIdentity, generateIdentity } from '../shared/crypto/identity.js';
import {
  asDeviceId,
  randomId,
  type CollectionName,
  type DeviceId,
  type RecordId,
} from '../shared/ids.js';
import type { JsonObject, JsonValue } from '../shared/json.js';
import { consoleLogger, type Logger } from '../shared/log.js';
import {
  originTag,
  type OriginTag,
  type ConflictEntry,
  type RecordState,
  type StoredRecord,
} from '../shared/record.js';
import { localDelete, localPatch, localPut, visibleValue } from './merge.js';
import { cursorSeq, newestStamp, planPage, type IncomingPage } from './page-plan.js';

export type { IncomingPage } from './page-plan.js';
import type { StorePort } from './store/store-port.js';

export interface ReplicaOptions {
  store: StorePort;
  /** This device's id. @default the id stored in `store`, or a new random one */
  device?: string;
  /** Wall clock in ms. @default Date.now */
  now?: () => number;
  /** Source of randomness. @default crypto.getRandomValues */
  random?: (n: number) => Uint8Array;
  /** Refuse remote stamps further ahead of our clock than this. @default 300_000 */
  maxDriftMs?: number;
  logger?: Logger;
}

/** A change to one record, local or from a peer. `value` is null when the record is gone. */
export interface ChangeEvent {
  collection: CollectionName;
  id: RecordId;
  value: JsonObject | null;
  source: 'local' | 'remote';
  /** The device whose page brought the change (remote changes only). */
  peer?: DeviceId;
}

/** Everything one store update wrote: a local write, or a page from a peer. */
export interface AppliedBatch {
  states: readonly RecordState[];
  source: 'local' | 'remote';
  /** The device whose page this was (remote batches only). */
  peer?: DeviceId;
  /** The store's head after the batch. */
  seq: number;
  /** Set when every written row is exactly what this origin sent (it needs none of it back). */
  origin: OriginTag | null;
}

export interface ReplicaEvents extends Record<string, unknown> {
  /** One per store update that wrote records; change values are derived only when wanted. */
  applied: AppliedBatch;
  conflict: ConflictEntry;
  /** The store's epoch changed (see `rotateEpoch`). */
  epoch: { epoch: string };
}

/** The per-record change events of a batch, optionally only those of one collection. */
export function* changeEvents(batch: AppliedBatch, collection?: string): Generator<ChangeEvent> {
  for (const state of batch.states) {
    if (collection !== undefined && state.c !== collection) continue;
    const event: ChangeEvent = {
      collection: state.c,
      id: state.i,
      value: visibleValue(state),
      source: batch.source,
    };
    if (batch.peer !== undefined) event.peer = batch.peer;
    yield event;
  }
}

const META_DEVICE = 'device';
const META_EPOCH = 'epoch';
const META_HLC = 'hlc';
/** The device's Ed25519 seed (base64url): a secret, kept with the data it signs for. */
export const META_IDENTITY = 'identity';

export function defaultRandom(n: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(n));
}

/** Key of a cursor's validity: the remote epoch and our selective-sync filter. */
export function filterKey(want: readonly string[] | null): string {
  return want === null ? '*' : [...new Set(want)].sort().join(',');
}

/**
 * One device's data: the store, the clock and the merge rules, with change events. Local writes
 * and remote pages go through the same atomic store update, so they can interleave freely.
 */
export class Replica {
  readonly events = new Emitter<ReplicaEvents>();
  readonly hlc: Hlc;

  private constructor(
    readonly store: StorePort,
    readonly device: DeviceId,
    private epochValue: string,
    private readonly random: (n: number) => Uint8Array,
    private readonly now: () => number,
    readonly logger: Logger,
    maxDriftMs: number | undefined,
  ) {
    this.hlc = new Hlc(device, { now, ...(maxDriftMs === undefined ? {} : { maxDriftMs }) });
  }

  static async open(options: ReplicaOptions): Promise<Replica> {
    const { store } = options;
    const random = options.random ?? defaultRandom;
    await store.open();
    const stored = await store.getMeta(META_DEVICE);
    if (options.device !== undefined && stored !== undefined && options.device !== stored) {
      throw new MeshsyncError(
        'INVALID_OPTION',
        `store belongs to device ${stored}, not ${options.device}`,
      );
    }
    let device: DeviceId;
    if (options.device !== undefined || stored !== undefined) {
      device = asDeviceId((options.device ?? stored)!);
    } else {
      // A new store gets a key pair, and its device id is derived from the public key.
      const identity = generateIdentity(random);
      await store.setMeta(META_IDENTITY, exportIdentity(identity));
      device = identity.device;
    }
    if (stored === undefined) await store.setMeta(META_DEVICE, device);
    let epoch = await store.getMeta(META_EPOCH);
    if (epoch === undefined) {
      epoch = randomId(random, 16);
      await store.setMeta(META_EPOCH, epoch);
    }
    const replica = new Replica(
      store,
      device,
      epoch,
      random,
      options.now ?? Date.now,
      options.logger ?? consoleLogger,
      options.maxDriftMs,
    );
    const last = await store.getMeta(META_HLC);
    if (last !== undefined && isStamp(last)) replica.hlc.observe(last);
    return replica;
  }

  /** Random id of this store; peers reset their cursors into us when it changes. */
  get epoch(): string {
    return this.epochValue;
  }

  /**
   * Gives the store a new epoch, so every peer starts its cursor into us over (and re-pulls
   * everything; merging makes that harmless). Call it after restoring a store from a backup:
   * peers' cursors into the old store would otherwise skip the changes made since the restore.
   * Sessions open at the time close (the peer's 'epoch' event), to reconnect with the new epoch.
   */
  async rotateEpoch(): Promise<string> {
    const epoch = randomId(this.random, 16);
    await this.store.setMeta(META_EPOCH, epoch);
    this.epochValue = epoch;
    this.events.emit('epoch', { epoch });
    return epoch;
  }

  async get(collection: CollectionName, id: RecordId): Promise<JsonObject | null> {
    const record = await this.store.get(collection, id);
    return record ? visibleValue(record) : null;
  }

  /** Visible records of a collection in id order, paged by id. */
  async list(
    collection: CollectionName,
    after: string | undefined,
    limit: number,
  ): Promise<Array<{ id: RecordId; value: JsonObject }>> {
    const out: Array<{ id: RecordId; value: JsonObject }> = [];
    let cursor = after;
    while (out.length < limit) {
      const batch = await this.store.list(collection, {
        ...(cursor === undefined ? {} : { after: cursor }),
        limit: limit - out.length,
      });
      for (const record of batch) {
        const value = visibleValue(record);
        if (value) out.push({ id: record.i, value });
      }
      if (batch.length < limit - out.length || batch.length === 0) break;
      cursor = batch[batch.length - 1]!.i;
    }
    return out;
  }

  /**
   * Puts many records of one collection in one store transaction (a bulk import): all land or
   * none do. Later entries for the same id win. Returns how many were written.
   */
  async putMany(
    c: CollectionName,
    entries: ReadonlyArray<readonly [RecordId, JsonObject]>,
  ): Promise<number> {
    if (entries.length === 0) return 0;
    const keys = entries.map(([i]) => [c, i] as const);
    const { result, lastSeq } = await this.store.update({ keys }, ({ record }) => {
      const written = new Map<string, RecordState>();
      for (const [i, value] of entries) {
        const next = localPut(written.get(i) ?? record(c, i), c, i, value, this.hlc.tick());
        checkRecordSize(next);
        written.set(i, next);
      }
      const states = [...written.values()];
      return {
        records: states.map((state) => ({ state, origin: null })),
        meta: { [META_HLC]: this.hlc.last },
        result: states,
      };
    });
    this.events.emit('applied', { states: result, source: 'local', seq: lastSeq, origin: null });
    return result.length;
  }

  put(c: CollectionName, i: RecordId, value: JsonObject): Promise<JsonObject | null> {
    return this.writeLocal(c, i, (local, stamp) => localPut(local, c, i, value, stamp));
  }

  patch(
    c: CollectionName,
    i: RecordId,
    changes: Record<string, JsonValue | undefined>,
  ): Promise<JsonObject | null> {
    return this.writeLocal(c, i, (local, stamp) => {
      if (!local || visibleValue(local) === null) {
        throw new MeshsyncError('NOT_FOUND', `no record ${c}/${i} to patch`);
      }
      return localPatch(local, changes, stamp);
    });
  }

  /** Deletes a record; false if there was nothing to delete. */
  async delete(c: CollectionName, i: RecordId): Promise<boolean> {
    let existed = false;
    await this.writeLocal(c, i, (local, stamp) => {
      existed = local !== undefined && visibleValue(local) !== null;
      return existed && local ? localDelete(local, stamp) : undefined;
    });
    return existed;
  }

  private async writeLocal(
    c: CollectionName,
    i: RecordId,
    make: (local: StoredRecord | undefined, stamp: Stamp) => RecordState | undefined,
  ): Promise<JsonObject | null> {
    const { result, lastSeq } = await this.store.update({ keys: [[c, i]] }, ({ record }) => {
      const next = make(record(c, i), this.hlc.tick());
      if (!next) return { records: [], result: undefined };
      checkRecordSize(next);
      return {
        records: [{ state: next, origin: null }],
        meta: { [META_HLC]: this.hlc.last },
        result: next,
      };
    });
    if (!result) return null;
    this.events.emit('applied', { states: [result], source: 'local', seq: lastSeq, origin: null });
    return visibleValue(result);
  }

  /** The seq up to which `peer`'s changes from store `epoch` have been applied here. */
  async cursorFor(peer: DeviceId, epoch: string, filter: string): Promise<number> {
    return cursorSeq(await this.store.getCursor(peer), epoch, filter);
  }

  async head(): Promise<number> {
    return this.store.lastSeq();
  }

  /**
   * Applies a page from `peer` and advances the cursor in the same store transaction.
   * Refuses the whole page (changing nothing) on clock drift or unwanted collections; a page
   * that starts after our cursor is not applied (`CURSOR_GAP`); an old page is a no-op.
   * Returns the cursor after the page.
   */
  async applyPage(
    peer: DeviceId,
    epoch: string,
    want: ReadonlySet<string> | null,
    page: IncomingPage,
  ): Promise<{ cursor: number; written: number }> {
    for (const row of page.rows) {
      if (want && !want.has(row.c)) {
        throw new MeshsyncError(
          'UNWANTED_COLLECTION',
          `page holds collection ${row.c}, which was not asked for`,
        );
      }
    }
    const newest = newestStamp(page.rows);
    if (newest !== null) this.hlc.check(newest);
    const filter = filterKey(want === null ? null : [...want]);
    const keys = page.rows.map((row) => [row.c, row.i] as const);
    const outcome = await this.store.update({ keys, cursorPeer: peer }, (context) => {
      const plan = planPage(peer, epoch, filter, page, context, this.now());
      if (!plan.cursor) return plan; // an old page: nothing applied, nothing observed
      if (newest !== null) this.hlc.observe(newest);
      return { ...plan, meta: { [META_HLC]: this.hlc.last } };
    });
    const { cursor, written, conflicts } = outcome.result;
    if (written.length > 0) {
      const from = originTag(peer, epoch);
      const origin = written.every((w) => w.origin === from) ? from : null;
      const states = written.map((w) => w.state);
      this.events.emit('applied', { states, source: 'remote', peer, seq: outcome.lastSeq, origin });
    }
    for (const conflict of conflicts) this.events.emit('conflict', conflict);
    return { cursor, written: written.length };
  }

  conflicts(): Promise<ConflictEntry[]> {
    return this.store.conflicts();
  }
}

/**
 * The whole record must stay within the limit, not just one write: every peer must be able to
 * receive it in one frame.
 */
function checkRecordSize(state: RecordState): void {
  const size = encodeRow(state).length;
  if (size > LIMITS.maxRecordBytes) {
    throw new MeshsyncError(
      'VALUE_TOO_LARGE',
      `${state.c}/${state.i} would be ${size} bytes; the limit is ${LIMITS.maxRecordBytes}`,
      { details: { size, limit: LIMITS.maxRecordBytes } },
    );
  }
}
