import { MeshsyncError } from '../../shared/errors.js';
import type { CollectionName, DeviceId, RecordId } from '../../shared/ids.js';
import { recordKey, type ConflictEntry, type StoredRecord } from '../../shared/record.js';
import type {
  CursorState,
  ListOptions,
  StorePort,
  StoreUpdate,
  UpdateContext,
  UpdateOutcome,
  UpdateRequest,
} from './store-port.js';

/**
 * An in-memory store: for tests, benchmarks and short-lived peers. Nothing survives the process.
 * Seq order is kept in an append-only array with lazy deletion, so `changesSince` is a binary
 * search plus the page, whatever the store's size.
 */
export class MemoryStore implements StorePort {
  readonly kind = 'memory';
  private readonly records = new Map<string, StoredRecord>();
  private readonly byCollection = new Map<string, Map<string, StoredRecord>>();
  private seqs: number[] = [];
  private readonly keyBySeq = new Map<number, string>();
  private readonly cursors = new Map<string, CursorState>();
  private readonly conflictLog = new Map<string, ConflictEntry>();
  private readonly meta = new Map<string, string>();
  private last = 0;
  private closed = false;

  async open(): Promise<void> {
    this.closed = false;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  async get(collection: CollectionName, id: RecordId): Promise<StoredRecord | undefined> {
    this.check();
    return this.records.get(recordKey(collection, id));
  }

  async list(collection: CollectionName, options: ListOptions): Promise<StoredRecord[]> {
    this.check();
    const inCollection = this.byCollection.get(collection);
    if (!inCollection) return [];
    const ids = [...inCollection.keys()].filter(
      (id) => options.after === undefined || id > options.after,
    );
    ids.sort();
    return ids.slice(0, options.limit).map((id) => inCollection.get(id)!);
  }

  async changesSince(after: number, limit: number): Promise<StoredRecord[]> {
    this.check();
    const out: StoredRecord[] = [];
    for (let i = this.firstIndexAfter(after); i < this.seqs.length && out.length < limit; i++) {
      const key = this.keyBySeq.get(this.seqs[i]!);
      if (key !== undefined) out.push(this.records.get(key)!);
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
    {
      const found = new Map<string, StoredRecord>();
      for (const [c, i] of request.keys) {
        const key = recordKey(c, i);
        const record = this.records.get(key);
        if (record) found.set(key, record);
      }
      const cursor =
        request.cursorPeer === undefined ? undefined : this.cursors.get(request.cursorPeer);
      const update = plan({ records: found, cursor });
      // The plan is done and nothing has been touched: now apply everything at once.
      for (const { state, origin } of update.records) {
        const key = recordKey(state.c, state.i);
        const old = this.records.get(key);
        if (old) this.keyBySeq.delete(old.seq);
        const seq = ++this.last;
        const stored: StoredRecord = { ...state, seq, o: origin };
        this.records.set(key, stored);
        this.seqs.push(seq);
        this.keyBySeq.set(seq, key);
        let inCollection = this.byCollection.get(state.c);
        if (!inCollection)
          this.byCollection.set(state.c, (inCollection = new Map<string, StoredRecord>()));
        inCollection.set(state.i, stored);
      }
      if (update.cursor) this.cursors.set(update.cursor.peer, { ...update.cursor.state });
      for (const entry of update.conflicts ?? []) this.conflictLog.set(entry.key, entry);
      for (const [key, value] of Object.entries(update.meta ?? {})) this.meta.set(key, value);
      this.compact();
      return { result: update.result, lastSeq: this.last };
    }
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

  private check(): void {
    if (this.closed) throw new MeshsyncError('CLOSED', 'store is closed');
  }

  private firstIndexAfter(after: number): number {
    let lo = 0;
    let hi = this.seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.seqs[mid]! <= after) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Drops stale seq entries once they are the majority, keeping the array proportional. */
  private compact(): void {
    if (this.seqs.length > 1024 && this.seqs.length > 2 * this.keyBySeq.size) {
      this.seqs = this.seqs.filter((seq) => this.keyBySeq.has(seq));
    }
  }
}
