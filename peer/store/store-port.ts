import type { CollectionName, DeviceId, RecordId } from '../../shared/ids.js';
import type { ConflictEntry, OriginTag, RecordState, StoredRecord } from '../../shared/record.js';

/**
 * Where a peer keeps its records, its cursors into other devices' changes, its conflict log and
 * a few meta values. Implementations: memory (here), SQLite (Node), Dexie (browser); all pass the
 * same conformance suite. Returned records are read-only snapshots: callers never mutate them.
 */
export interface StorePort {
  /** A short name for logs and status, e.g. `memory`, `sqlite`. */
  readonly kind: string;
  /** Opens (creating or migrating) the store. Idempotent. */
  open(): Promise<void>;
  /** Flushes and closes. Idempotent. */
  close(): Promise<void>;
  get(collection: CollectionName, id: RecordId): Promise<StoredRecord | undefined>;
  /** Records of one collection in id order (string order), tombstones included. */
  list(collection: CollectionName, options: ListOptions): Promise<StoredRecord[]>;
  /** Up to `limit` records with `seq > after`, in seq order. Never loads the whole store. */
  changesSince(after: number, limit: number): Promise<StoredRecord[]>;
  /**
   * Optional: like `changesSince`, but each record already serialised as a wire row (see
   * `encodeRow`). Stores that keep rows in wire form implement it so pages are built without
   * decoding and re-encoding every record.
   */
  changesSinceEncoded?(after: number, limit: number): Promise<EncodedRecord[]>;
  /** The highest seq given so far (0 for an empty store). */
  lastSeq(): Promise<number>;
  getCursor(peer: DeviceId): Promise<CursorState | undefined>;
  /**
   * The one way to write. Atomically: reads the records named by `keys` (and the cursor of
   * `cursorPeer`), calls `plan` synchronously with them, then stores everything the plan
   * returns (records with the next seqs in order, the cursor, conflicts, meta) in one
   * transaction. If `plan` throws, nothing is written and the error propagates.
   */
  update<T>(
    request: UpdateRequest,
    plan: (context: UpdateContext) => StoreUpdate<T>,
  ): Promise<UpdateOutcome<T>>;
  conflicts(): Promise<ConflictEntry[]>;
  /** Removes one conflict entry; false if there was none with that key. */
  removeConflict(key: string): Promise<boolean>;
  getMeta(key: string): Promise<string | undefined>;
  setMeta(key: string, value: string): Promise<void>;
}

/** A record as its wire row (JSON text), with what a page builder needs to filter it. */
export interface EncodedRecord {
  seq: number;
  c: CollectionName;
  o: OriginTag | null;
  json: string;
}

export interface ListOptions {
  /** Return ids strictly after this one. */
  after?: string;
  limit: number;
}

/** How far this store has applied a remote device's changes. */
export interface CursorState {
  /** The remote device's seq up to which its changes are applied here. */
  seq: number;
  /** The remote store's epoch the seq belongs to. */
  epoch: string;
  /** The selective-sync filter in force when the cursor was advanced ('*' for all). */
  filter: string;
}

export interface UpdateRequest {
  keys: ReadonlyArray<readonly [CollectionName, RecordId]>;
  cursorPeer?: DeviceId;
}

export interface UpdateContext {
  /** An existing record among the requested keys (undefined for others and for absent ones). */
  readonly record: (collection: CollectionName, id: RecordId) => StoredRecord | undefined;
  cursor: CursorState | undefined;
}

export interface StoreUpdate<T> {
  /** Records to store, each with the next seq, in this order (each key at most once). */
  records: ReadonlyArray<{ state: RecordState; origin: OriginTag | null }>;
  cursor?: { peer: DeviceId; state: CursorState };
  conflicts?: readonly ConflictEntry[];
  meta?: Readonly<Record<string, string>>;
  result: T;
}

export interface UpdateOutcome<T> {
  result: T;
  /** The store's last seq after the update. */
  lastSeq: number;
}
