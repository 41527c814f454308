import type { Database } from 'better-sqlite3';
import { MeshsyncError } from '../../shared/errors.js';

/** `PRAGMA application_id` of a meshsync store: "MSNC". Tells our files from others. */
export const APPLICATION_ID = 0x4d534e43;
/** The schema this code writes. Older stores are migrated; newer ones are refused. */
export const SCHEMA_VERSION = 1;

/** Migrations: entry k takes a store from schema version k to k + 1. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE records (
    c TEXT NOT NULL,
    i TEXT NOT NULL,
    seq INTEGER NOT NULL,
    a TEXT,
    d TEXT,
    f TEXT NOT NULL,
    o TEXT,
    PRIMARY KEY (c, i)
  ) WITHOUT ROWID;
  CREATE UNIQUE INDEX records_by_seq ON records (seq);
  CREATE TABLE cursors (
    peer TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    epoch TEXT NOT NULL,
    filter TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE conflicts (key TEXT PRIMARY KEY, body TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  INSERT INTO meta (key, value) VALUES ('seq', '0');
  `,
];

/** What an existing file holds, read without writing anything. */
export type Inspection = { kind: 'empty' } | { kind: 'meshsync'; version: number };

/**
 * Reads the file's identity: an empty database, or a meshsync store of some schema version.
 * Throws `STORE_CORRUPT` for a file that is not a readable database, `STORE_FOREIGN` for another
 * application's database and `STORE_VERSION` for a store from a newer meshsync.
 */
export function inspect(db: Database, path: string): Inspection {
  let appId: number;
  let version: number;
  let objects: number;
  try {
    appId = db.pragma('application_id', { simple: true }) as number;
    version = db.pragma('user_version', { simple: true }) as number;
    objects = (db.prepare('SELECT count(*) AS n FROM sqlite_master').get() as { n: number }).n;
  } catch (err) {
    throw sqliteError(err, path);
  }
  if (appId === 0 && version === 0 && objects === 0) return { kind: 'empty' };
  if (appId !== APPLICATION_ID) {
    throw new MeshsyncError('STORE_FOREIGN', `${path} is a database of another application`, {
      details: { path, applicationId: appId },
    });
  }
  if (version > SCHEMA_VERSION) {
    throw new MeshsyncError(
      'STORE_VERSION',
      `${path} has schema version ${version}; this meshsync reads up to ${SCHEMA_VERSION}. Upgrade meshsync.`,
      { details: { path, version, supported: SCHEMA_VERSION } },
    );
  }
  return { kind: 'meshsync', version };
}

/** Brings the schema up to SCHEMA_VERSION, each step in its own transaction. */
export function migrate(db: Database, from: number): void {
  for (let v = from; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`application_id = ${APPLICATION_ID}`);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}

/** Maps better-sqlite3 errors to meshsync codes. */
export function sqliteError(err: unknown, path: string): MeshsyncError {
  if (err instanceof MeshsyncError) return err;
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return new MeshsyncError('STORE_CORRUPT', `${path} is not a readable database: ${message}`, {
      cause: err,
      details: { path, sqlite: code },
    });
  }
  if (err instanceof TypeError && /not open/.test(message)) {
    return new MeshsyncError('CLOSED', 'store is closed', { cause: err });
  }
  return new MeshsyncError('STORE_FAILED', message, {
    cause: err,
    details: { path, sqlite: typeof code === 'string' ? code : undefined },
  });
}
