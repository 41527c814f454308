import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../peer/node/sqlite-store.js';
import { APPLICATION_ID, SCHEMA_VERSION } from '../../peer/node/sqlite-schema.js';
import { createPeer } from '../../peer/peer.js';
import { silentLogger } from '../../shared/log.js';

const dir = mkdtempSync(join(tmpdir(), 'meshsync-sqlite-files-'));
let n = 0;
const path = (): string => join(dir, `case-${++n}.db`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Opening must fail with `code` and leave the file (and its directory) exactly as it was. */
async function refusedUntouched(file: string, code: string): Promise<void> {
  const before = readFileSync(file);
  const siblings = readdirSync(dir).sort();
  await expect(new SqliteStore({ path: file }).open()).rejects.toMatchObject({ code });
  expect(readFileSync(file).equals(before)).toBe(true);
  expect(readdirSync(dir).sort()).toEqual(siblings); // no -wal, -shm or -journal left behind
}

describe('SQLite store files', () => {
  it('creates a WAL-mode store with its application id and schema version', async () => {
    const file = path();
    const store = new SqliteStore({ path: file });
    await store.open();
    expect(await store.integrityCheck()).toEqual(['ok']);
    await store.close();
    const db = new Database(file, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('application_id', { simple: true })).toBe(APPLICATION_ID);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    const plan = db
      .prepare('EXPLAIN QUERY PLAN SELECT * FROM records WHERE seq > ? ORDER BY seq LIMIT 10')
      .all(0);
    expect(JSON.stringify(plan)).toMatch(/records_by_seq/); // "rows after seq S" uses the index
    db.close();
  });

  it('refuses a file that is not a database: STORE_CORRUPT, file untouched', async () => {
    const file = path();
    writeFileSync(file, Buffer.from('this is not a database, just some bytes '.repeat(200)));
    await refusedUntouched(file, 'STORE_CORRUPT');
  });

  it("refuses another application's database: STORE_FOREIGN, file untouched", async () => {
    const file = path();
    const db = new Database(file);
    db.exec('CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)');
    db.close();
    await refusedUntouched(file, 'STORE_FOREIGN');
  });

  it('refuses a store written by a newer schema: STORE_VERSION, file untouched', async () => {
    const file = path();
    const store = new SqliteStore({ path: file });
    await store.open();
    await store.close();
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.pragma('journal_mode = DELETE'); // fold the WAL back so the file is self-contained
    db.close();
    await refusedUntouched(file, 'STORE_VERSION');
  });

  it('reports a damaged store as STORE_CORRUPT', async () => {
    const file = path();
    const peer = await createPeer({ store: new SqliteStore({ path: file }), logger: silentLogger });
    for (let k = 0; k < 300; k++)
      await peer.collection('c').put(`k${k}`, { text: 'x'.repeat(200) });
    await peer.stop();
    const db = new Database(file);
    db.pragma('journal_mode = DELETE');
    db.close();
    truncateSync(file, Math.floor(readFileSync(file).length / 2));
    const store = new SqliteStore({ path: file });
    const failure = store.open().then(async () => {
      const check = await store.integrityCheck();
      if (check.join() === 'ok') await store.changesSince(0, 1000);
      return check;
    });
    const outcome = await failure.catch((err: unknown) => err);
    // Either opening or reading refuses with STORE_CORRUPT, or the integrity check says so.
    if (Array.isArray(outcome)) expect(outcome.join()).not.toBe('ok');
    else expect(outcome).toMatchObject({ code: 'STORE_CORRUPT' });
    await store.close();
  });

  it('keeps data, cursors and the device across a restart of the peer', async () => {
    const file = path();
    const first = await createPeer({
      store: new SqliteStore({ path: file }),
      device: 'sqliteA1',
      logger: silentLogger,
    });
    await first.collection('tasks').put('t1', { title: 'persisted' });
    const epoch = first.replica.epoch;
    await first.stop();
    const second = await createPeer({
      store: new SqliteStore({ path: file }),
      logger: silentLogger,
    });
    expect(second.device).toBe('sqliteA1');
    expect(second.replica.epoch).toBe(epoch);
    expect(await second.collection('tasks').get('t1')).toEqual({ title: 'persisted' });
    const next = await second.collection('tasks').put('t2', { title: 'after restart' });
    expect(next).toEqual({ title: 'after restart' });
    expect(await second.replica.head()).toBe(2);
    await second.stop();
    expect(existsSync(file)).toBe(true);
  });
});
