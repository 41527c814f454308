import { Dexie, type Table } from 'dexie';
import { MeshsyncError } from '../../shared/errors.js';
import type { CollectionName, DeviceId, RecordId } from '../../shared/ids.js';
import type { Stamp } from '../../shared/hlc.js';
import {
  recordKey,
  type ConflictEntry,
  type FieldState,
  type OriginTag,
  type StoredRecord,
} from '../../shared/record.js';
import type {
  CursorState,
  ListOptions,
  StorePort,
  StoreUpdate,
  UpdateContext,
  UpdateOutcome,
  UpdateRequest,
} from '../store/store-port.js';

/** The schema this code writes (Dexie version; IndexedDB sees it times ten). */
export const DEXIE_SCHEMA_VERSION = 1;
const FORMAT = 'meshsync-store';
/**
 * An IndexedDB key above every string (arrays sort after strings). Not `Dexie.maxKey`: without a
 * global indexedDB to probe (Node, workers) Dexie falls back to the string '\uffff', an id.
 */
const ABOVE_ALL_STRINGS: Array<Array<void>> = [[]];

export interface DexieStoreOptions {
  /** The IndexedDB database name (one per device store). */
  name: string;
  /** The IndexedDB implementation. @default the page's `indexedDB` */
  indexedDB?: IDBFactory;
  /** Its key range class. @default the page's `IDBKeyRange` */
  IDBKeyRange?: typeof IDBKeyRange;
}

interface RecordRow {
  c: string;
  i: string;
  seq: number;
  a: string | null;
  d: string | null;
  f: Record<string, FieldState>;
  o: string | null;
}

interface MetaRow {
  key: string;
  value: string;
}

class StoreDb extends Dexie {
  records!: Table<RecordRow, [string, string]>;
  cursors!: Table<CursorState & { peer: string }, string>;
  conflicts!: Table<ConflictEntry, string>;
  meta!: Table<MetaRow, string>;

  constructor(name: string, deps: Pick<DexieStoreOptions, 'indexedDB' | 'IDBKeyRange'>) {
    super(name, { ...deps, chromeTransactionDurability: 'strict', autoOpen: false });
    this.version(DEXIE_SCHEMA_VERSION).stores({
      records: '[c+i], &seq',
      cursors: 'peer',
      conflicts: 'key',
      meta: 'key',
    });
  }
}

function toRecord(row: RecordRow): StoredRecord {
  return {
    c: row.c as CollectionName,
    i: row.i as RecordId,
    a: row.a as Stamp | null,
    d: row.d as Stamp | null,
    f: row.f,
    seq: row.seq,
    o: row.o as OriginTag | null,
  };
}

/**
 * A store on IndexedDB through Dexie, with the semantics of the SQLite store: each update (a
 * page and its cursor, or a local write) in one read-write transaction with strict durability,
 * a unique index on seq for "changes after S", and refusal of foreign or newer databases.
 */
export class DexieStore implements StorePort {
  readonly kind = 'dexie';
  private db: StoreDb | undefined;

  constructor(private readonly options: DexieStoreOptions) {}

  async open(): Promise<void> {
    if (this.db) return;
    const deps = { indexedDB: this.options.indexedDB, IDBKeyRange: this.options.IDBKeyRange };
    await this.inspect(deps);
    const db = new StoreDb(this.options.name, deps);
    try {
      await db.open();
      await db.transaction('rw', db.meta, async () => {
        if (!(await db.meta.get('format'))) {
          await db.meta.bulkPut([
            { key: 'format', value: FORMAT },
            { key: 'seq', value: '0' },
          ]);
        }
      });
    } catch (err) {
      db.close();
      throw dexieError(err, this.options.name);
    }
    this.db = db;
  }

  /** Refuses, without changing it, an existing database that is not a meshsync store of ours. */
  private async inspect(deps: Pick<DexieStoreOptions, 'indexedDB' | 'IDBKeyRange'>): Promise<void> {
    const { name } = this.options;
    const probe = new Dexie(name, { ...deps, autoOpen: false });
    try {
      if (!(await Dexie.exists(name))) return;
    } catch {
      // Dexie.exists needs the global indexedDB; fall through to opening the probe.
    }
    try {
      await probe.open(); // no version given: opens whatever is there, creates nothing
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchDatabaseError') return;
      throw dexieError(err, name);
    }
    try {
      const tables = probe.tables.map((t) => t.name);
      if (tables.length === 0) return;
      const format = tables.includes('meta')
        ? ((await probe.table('meta').get('format')) as MetaRow | undefined)
        : undefined;
      if (format?.value !== FORMAT) {
        throw new MeshsyncError('STORE_FOREIGN', `${name} is a database of another application`, {
          details: { name, tables },
        });
      }
      if (probe.verno > DEXIE_SCHEMA_VERSION) {
        throw new MeshsyncError(
          'STORE_VERSION',
          `${name} has schema version ${probe.verno}; this meshsync reads up to ${DEXIE_SCHEMA_VERSION}`,
          {
            details: { name, version: probe.verno },
          },
        );
      }
    } finally {
      probe.close();
    }
  }

  async close(): Promise<void> {
    this.db?.close();
    this.db = undefined;
  }

  async get(collection: CollectionName, id: RecordId): Promise<StoredRecord | undefined> {
    return this.run(async (db) => {
      const row = await db.records.get([collection, id]);
      return row && toRecord(row);
    });
  }

  async list(collection: CollectionName, options: ListOptions): Promise<StoredRecord[]> {
    return this.run(async (db) => {
      const lower: [string, string] = [collection, options.after ?? ''];
      const rows = await db.records
        .where('[c+i]')
        .between(lower, [collection, ABOVE_ALL_STRINGS], options.after === undefined, false)
        .limit(options.limit)
        .toArray();
      return rows.map(toRecord);
    });
  }

  async changesSince(after: number, limit: number): Promise<StoredRecord[]> {
    return this.run(async (db) =>
      (await db.records.where('seq').above(after).limit(limit).toArray()).map(toRecord),
    );
  }

  async lastSeq(): Promise<number> {
    return this.run(async (db) => Number((await db.meta.get('seq'))?.value ?? 0));
  }

  async getCursor(peer: DeviceId): Promise<CursorState | undefined> {
    return this.run(async (db) => {
      const row = await db.cursors.get(peer);
      return row && { seq: row.seq, epoch: row.epoch, filter: row.filter };
    });
  }

  async update<T>(
    request: UpdateRequest,
    plan: (context: UpdateContext) => StoreUpdate<T>,
  ): Promise<UpdateOutcome<T>> {
    return this.run((db) =>
      db.transaction('rw', [db.records, db.cursors, db.conflicts, db.meta], async () => {
        const keys = request.keys.map(([c, i]) => [c, i] as [string, string]);
        const rows = await db.records.bulkGet(keys);
        const records = new Map<string, StoredRecord>();
        for (const row of rows) if (row) records.set(recordKey(row.c, row.i), toRecord(row));
        const cursorRow =
          request.cursorPeer === undefined ? undefined : await db.cursors.get(request.cursorPeer);
        const cursor = cursorRow && {
          seq: cursorRow.seq,
          epoch: cursorRow.epoch,
          filter: cursorRow.filter,
        };
        let seq = Number((await db.meta.get('seq'))?.value ?? 0);
        // IndexedDB reads are async: fetch the requested records first, then plan synchronously.
        const update = plan({ record: (c, i) => records.get(recordKey(c, i)), cursor });
        const put: RecordRow[] = update.records.map(({ state, origin }) => ({
          c: state.c,
          i: state.i,
          seq: ++seq,
          a: state.a,
          d: state.d,
          f: state.f,
          o: origin,
        }));
        if (put.length > 0) {
          await db.records.bulkPut(put);
          await db.meta.put({ key: 'seq', value: String(seq) });
        }
        if (update.cursor)
          await db.cursors.put({ peer: update.cursor.peer, ...update.cursor.state });
        if (update.conflicts?.length) await db.conflicts.bulkPut([...update.conflicts]);
        const meta = Object.entries(update.meta ?? {}).map(([key, value]) => ({ key, value }));
        if (meta.length > 0) await db.meta.bulkPut(meta);
        return { result: update.result, lastSeq: seq };
      }),
    );
  }

  async conflicts(): Promise<ConflictEntry[]> {
    return this.run((db) => db.conflicts.toArray());
  }

  async removeConflict(key: string): Promise<boolean> {
    return this.run((db) =>
      db.transaction('rw', db.conflicts, async () => {
        const found = (await db.conflicts.get(key)) !== undefined;
        if (found) await db.conflicts.delete(key);
        return found;
      }),
    );
  }

  async getMeta(key: string): Promise<string | undefined> {
    return this.run(async (db) => (await db.meta.get(key))?.value);
  }

  async setMeta(key: string, value: string): Promise<void> {
    await this.run((db) => db.meta.put({ key, value }));
  }

  private async run<R>(fn: (db: StoreDb) => Promise<R>): Promise<R> {
    const db = this.db;
    if (!db) throw new MeshsyncError('CLOSED', 'store is closed');
    try {
      return await fn(db);
    } catch (err) {
      throw dexieError(err, this.options.name);
    }
  }
}

function dexieError(err: unknown, name: string): unknown {
  if (err instanceof MeshsyncError) return err;
  const errName = (err as { name?: unknown }).name;
  const message = err instanceof Error ? err.message : String(err);
  if (errName === 'DatabaseClosedError')
    return new MeshsyncError('CLOSED', 'store is closed', { cause: err });
  if (errName === 'VersionError') {
    return new MeshsyncError(
      'STORE_VERSION',
      `${name} was written by a newer meshsync: ${message}`,
      { cause: err },
    );
  }
  // An error thrown by an update's plan keeps its identity (it carries a meshsync code).
  if (typeof (err as { code?: unknown }).code === 'string') return err;
  return new MeshsyncError('STORE_FAILED', `${name}: ${message}`, {
    cause: err,
    details: { name, dexie: errName },
  });
}
