import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { MeshsyncError } from '../../shared/errors.js';
import type { CollectionName, DeviceId, RecordId } from '../../shared/ids.js';
import type { ConflictEntry, OriginTag, StoredRecord } from '../../shared/record.js';
import {
  fieldsFromWire,
  rowJsonFrom,
  wireFields,
  type WireField,
} from '../../shared/protocol/wire-row.js';
import type { Stamp } from '../../shared/hlc.js';
import type {
  CursorState,
  EncodedRecord,
  ListOptions,
  StorePort,
  StoreUpdate,
  UpdateContext,
  UpdateOutcome,
  UpdateRequest,
} from '../store/store-port.js';
import { inspect, migrate, sqliteError } from './sqlite-schema.js';

export interface SqliteStoreOptions {
  /** The database file (created if missing), or `:memory:`. */
  path: string;
  /**
   * `full`: a write is on disk when its call returns, power loss included. `normal`: survives
   * the app crashing but may lose the last writes on power loss; faster on slow disks.
   * @default 'full'
   */
  synchronous?: 'full' | 'normal';
  /** How long to wait for another process holding the write lock. @default 5000 */
  busyTimeoutMs?: number;
}

interface Row {
  c: string;
  i: string;
  seq: number;
  a: string | null;
  d: string | null;
  f: string;
  o: string | null;
}

const COLUMNS = 'c, i, seq, a, d, f, o';

function toRecord(row: Row): StoredRecord {
  return {
    c: row.c as CollectionName,
    i: row.i as RecordId,
    a: row.a as Stamp | null,
    d: row.d as Stamp | null,
    // Fields are kept in wire form: pages are spliced from them without re-encoding.
    f: fieldsFromWire(JSON.parse(row.f) as Record<string, WireField>, row.a as Stamp | null),
    seq: row.seq,
    o: row.o as OriginTag | null,
  };
}

function prepare(db: Database.Database) {
  return {
    get: db.prepare<[string, string], Row>(`SELECT ${COLUMNS} FROM records WHERE c = ? AND i = ?`),
    list: db.prepare<[string, string, number], Row>(
      `SELECT ${COLUMNS} FROM records WHERE c = ? AND i > ? ORDER BY i LIMIT ?`,
    ),
    since: db.prepare<[number, number], Row>(
      `SELECT ${COLUMNS} FROM records WHERE seq > ? ORDER BY seq LIMIT ?`,
    ),
    upsert: db.prepare(
      `INSERT INTO records (c, i, seq, a, d, f, o) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (c, i) DO UPDATE SET seq = excluded.seq, a = excluded.a, d = excluded.d, f = excluded.f, o = excluded.o`,
    ),
    getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
    setMeta: db.prepare(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ),
    getCursor: db.prepare<[string], CursorState>(
      'SELECT seq, epoch, filter FROM cursors WHERE peer = ?',
    ),
    setCursor: db.prepare(
      `INSERT INTO cursors (peer, seq, epoch, filter) VALUES (?, ?, ?, ?)
       ON CONFLICT (peer) DO UPDATE SET seq = excluded.seq, epoch = excluded.epoch, filter = excluded.filter`,
    ),
    conflicts: db.prepare<[], { body: string }>('SELECT body FROM conflicts ORDER BY key'),
    putConflict: db.prepare('INSERT OR REPLACE INTO conflicts (key, body) VALUES (?, ?)'),
    removeConflict: db.prepare('DELETE FROM conflicts WHERE key = ?'),
  };
}

/**
 * A store on SQLite (better-sqlite3): WAL mode, a versioned schema with migrations, an index on
 * seq for "changes after S", and every update (a page and its cursor, or a local write) in one
 * IMMEDIATE transaction, so other processes on the same file see all of it or none of it.
 */
export class SqliteStore implements StorePort {
  readonly kind = 'sqlite';
  private db: Database.Database | undefined;
  private stmts: ReturnType<typeof prepare> | undefined;

  constructor(private readonly options: SqliteStoreOptions) {}

  get path(): string {
    return this.options.path;
  }

  async open(): Promise<void> {
    if (this.db) return;
    const { path } = this.options;
    if (path !== ':memory:' && existsSync(path)) {
      // Look before touching: a foreign, newer or damaged file is refused and left as it is.
      const probe = openDb(path, { readonly: true, fileMustExist: true });
      try {
        inspect(probe, path);
      } finally {
        probe.close();
      }
    }
    const db = openDb(path, {});
    try {
      const found = inspect(db, path);
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(this.options.busyTimeoutMs ?? 5000))}`);
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${this.options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
      migrate(db, found.kind === 'empty' ? 0 : found.version);
      this.stmts = prepare(db);
      this.db = db;
    } catch (err) {
      db.close();
      throw sqliteError(err, path);
    }
  }

  async close(): Promise<void> {
    const db = this.db;
    this.db = undefined;
    this.stmts = undefined;
    db?.close();
  }

  /** Runs SQLite's own integrity check; returns its findings ('ok' when sound). */
  async integrityCheck(): Promise<string[]> {
    return this.run((db) =>
      (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map(
        (r) => r.integrity_check,
      ),
    );
  }

  async get(collection: CollectionName, id: RecordId): Promise<StoredRecord | undefined> {
    return this.run((_, s) => {
      const row = s.get.get(collection, id);
      return row ? toRecord(row) : undefined;
    });
  }

  async list(collection: CollectionName, options: ListOptions): Promise<StoredRecord[]> {
    return this.run((_, s) =>
      s.list.all(collection, options.after ?? '', options.limit).map(toRecord),
    );
  }

  async changesSince(after: number, limit: number): Promise<StoredRecord[]> {
    return this.run((_, s) => s.since.all(after, limit).map(toRecord));
  }

  async changesSinceEncoded(after: number, limit: number): Promise<EncodedRecord[]> {
    return this.run((_, s) =>
      s.since.all(after, limit).map((row) => ({
        seq: row.seq,
        c: row.c as CollectionName,
        o: row.o as OriginTag | null,
        json: rowJsonFrom(row.c, row.i, row.a as Stamp | null, row.d as Stamp | null, row.f),
      })),
    );
  }

  async lastSeq(): Promise<number> {
    return this.run((_, s) => Number(s.getMeta.get('seq')?.value ?? 0));
  }

  async getCursor(peer: DeviceId): Promise<CursorState | undefined> {
    return this.run((_, s) => {
      const row = s.getCursor.get(peer);
      return row ? { seq: row.seq, epoch: row.epoch, filter: row.filter } : undefined;
    });
  }

  async update<T>(
    request: UpdateRequest,
    plan: (context: UpdateContext) => StoreUpdate<T>,
  ): Promise<UpdateOutcome<T>> {
    return this.run((db, s) =>
      db
        .transaction((): UpdateOutcome<T> => {
          const cursor =
            request.cursorPeer === undefined ? undefined : s.getCursor.get(request.cursorPeer);
          const update = plan({
            record: (c, i) => {
              const row = s.get.get(c, i);
              return row ? toRecord(row) : undefined;
            },
            cursor: cursor && { seq: cursor.seq, epoch: cursor.epoch, filter: cursor.filter },
          });
          let seq = Number(s.getMeta.get('seq')?.value ?? 0);
          for (const { state, origin } of update.records) {
            s.upsert.run(
              state.c,
              state.i,
              ++seq,
              state.a,
              state.d,
              JSON.stringify(wireFields(state)),
              origin,
            );
          }
          if (update.records.length > 0) s.setMeta.run('seq', String(seq));
          if (update.cursor) {
            const { peer, state } = update.cursor;
            s.setCursor.run(peer, state.seq, state.epoch, state.filter);
          }
          for (const entry of update.conflicts ?? [])
            s.putConflict.run(entry.key, JSON.stringify(entry));
          for (const [key, value] of Object.entries(update.meta ?? {})) s.setMeta.run(key, value);
          return { result: update.result, lastSeq: seq };
        })
        .immediate(),
    );
  }

  async conflicts(): Promise<ConflictEntry[]> {
    return this.run((_, s) =>
      s.conflicts.all().map((row) => JSON.parse(row.body) as ConflictEntry),
    );
  }

  async removeConflict(key: string): Promise<boolean> {
    return this.run((_, s) => s.removeConflict.run(key).changes > 0);
  }

  async getMeta(key: string): Promise<string | undefined> {
    return this.run((_, s) => s.getMeta.get(key)?.value);
  }

  async setMeta(key: string, value: string): Promise<void> {
    this.run((_, s) => s.setMeta.run(key, value));
  }

  private run<R>(fn: (db: Database.Database, stmts: ReturnType<typeof prepare>) => R): R {
    if (!this.db || !this.stmts) throw new MeshsyncError('CLOSED', 'store is closed');
    try {
      return fn(this.db, this.stmts);
    } catch (err) {
      // Errors thrown by an update's plan (meshsync codes) pass through unchanged.
      throw (err as { code?: unknown }).code !== undefined &&
        !String((err as { code?: unknown }).code).startsWith('SQLITE')
        ? err
        : sqliteError(err, this.options.path);
    }
  }
}

function openDb(path: string, options: Database.Options): Database.Database {
  try {
    return new Database(path, options);
  } catch (err) {
    throw sqliteError(err, path);
  }
}
