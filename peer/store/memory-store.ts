import { MeshsyncError } from '../../shared/errors.js';
import type { CollectionName, DeviceId, RecordId } from '../../shared/ids.js';
import type { ConflictEntry, StoredRecord } from '../../shared/record.js';
import type {
  CursorState,
  ListOptions,
  StorePort,
  StoreUpdate,
  UpdateContext,
  UpdateOutcome,
  UpdateRequest,
} from './store-port.js';

interface Collection {
  records: Map<string, StoredRecord>;
  /** Ids in order, rebuilt lazily after a new id arrives. */
  sorted: string[] | null;
}

/**
 * An in-memory store: for tests, benchmarks and short-lived peers. Nothing survives the process.
 * The seq order is an append-only log of record references (a superseded entry becomes null),
 * so `changesSince` is a binary search plus the page, whatever the store's size.
 */
export class MemoryStore implements StorePort {
  readonly kind = 'memory';
  private readonly collections = new Map<string, Collection>();
  private log: Array<StoredRecord | null> = [];
  private logSeqs: number[] = [];
  private superseded = 0;
  private readonly cursors = new Map<string, CursorState>();
  private readonly conflictLog = new Map<string, ConflictEntry>();
  private readonly meta = new Map<string, string>();
  private last = 0;
  private closed = false;
  private lastName = '';
  private lastCollection: Collection | undefined;

  async open(): Promise<void> {
    this.closed = false;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  async get(collection: CollectionName, id: RecordId): Promise<StoredRecord | undefined> {
    this.check();
    return this.collection(collection)?.records.get(id);
  }

  async list(collection: CollectionName, options: ListOptions): Promise<StoredRecord[]> {
    this.check();
    const col = this.collections.get(collection);
    if (!col) return [];
    const ids = (col.sorted ??= [...col.records.keys()].sort());
    let lo = 0;
    if (options.after !== undefined) {
      let hi = ids.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (ids[mid]! <= options.after) lo = mid + 1;
        else hi = mid;
      }
    }
    return ids.slice(lo, lo + options.limit).map((id) => col.records.get(id)!);
  }

  async changesSince(after: number, limit: number): Promise<StoredRecord[]> {
    this.check();
    const out: StoredRecord[] = [];
    for (let k = this.indexAfter(after); k < this.log.length && out.length < limit; k++) {
      const record = this.log[k];
      if (record) out.push(record);
    }
    return out;
  }

  async lastSeq(): Promise<number> {
    this.check();
    return this.last;
  }

  async getCursor(peer: DeviceId): Promise<CursorState | undefined> {
    this.check();
    return this.cursors.get(peer);
  }

  async update<T>(
    request: UpdateRequest,
    plan: (context: UpdateContext) => StoreUpdate<T>,
  ): Promise<UpdateOutcome<T>> {
    this.check();
    const cursor =
      request.cursorPeer === undefined ? undefined : this.cursors.get(request.cursorPeer);
    const update = plan({ record: (c, i) => this.collection(c)?.records.get(i), cursor });
    // The plan is done and nothing has been touched: now apply everything at once.
    for (const { state, origin } of update.records) {
      let col = this.collection(state.c);
      if (!col) this.collections.set(state.c, (col = { records: new Map(), sorted: null }));
      const old = col.records.get(state.i);
      if (old) this.supersede(old.seq);
      else col.sorted = null;
      const seq = ++this.last;
      const stored: StoredRecord = {
        c: state.c,
        i: state.i,
        a: state.a,
        d: state.d,
        f: state.f,
        seq,
        o: origin,
      };
      col.records.set(state.i, stored);
      this.log.push(stored);
      this.logSeqs.push(seq);
    }
    if (update.cursor) this.cursors.set(update.cursor.peer, { ...update.cursor.state });
    for (const entry of update.conflicts ?? []) this.conflictLog.set(entry.key, entry);
    for (const [key, value] of Object.entries(update.meta ?? {})) this.meta.set(key, value);
    this.compact();
    return { result: update.result, lastSeq: this.last };
  }

  async conflicts(): Promise<ConflictEntry[]> {
    this.check();
    return [...this.conflictLog.values()];
  }

  async removeConflict(key: string): Promise<boolean> {
    this.check();
    return this.conflictLog.delete(key);
  }

  async getMeta(key: string): Promise<string | undefined> {
    this.check();
    return this.meta.get(key);
  }

  async setMeta(key: string, value: string): Promise<void> {
    this.check();
    this.meta.set(key, value);
  }

  /** A collection by name; the last one asked for is remembered (pages mostly hold one). */
  private collection(name: string): Collection | undefined {
    if (name === this.lastName && this.lastCollection) return this.lastCollection;
    const col = this.collections.get(name);
    if (col) {
      this.lastName = name;
      this.lastCollection = col;
    }
    return col;
  }

  private check(): void {
    if (this.closed) throw new MeshsyncError('CLOSED', 'store is closed');
  }

  /** Index of the first log entry with seq > after. */
  private indexAfter(after: number): number {
    let lo = 0;
    let hi = this.logSeqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.logSeqs[mid]! <= after) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private supersede(seq: number): void {
    const k = this.indexAfter(seq - 1);
    if (this.logSeqs[k] === seq && this.log[k]) {
      this.log[k] = null;
      this.superseded++;
    }
  }

  /** Drops superseded entries once they are the majority, keeping the log proportional. */
  private compact(): void {
    if (this.log.length < 1024 || this.superseded * 2 < this.log.length) return;
    const log: StoredRecord[] = [];
    for (const record of this.log) if (record) log.push(record);
    this.log = log;
    this.logSeqs = log.map((record) => record.seq);
    this.superseded = 0;
  }
}
