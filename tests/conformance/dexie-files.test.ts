import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { Dexie } from 'dexie';
import { describe, expect, it } from 'vitest';
import { DexieStore } from '../../peer/browser/dexie-store.js';
import { createPeer } from '../../peer/peer.js';
import { silentLogger } from '../../shared/log.js';

const indexedDB = new IDBFactory();
const deps = { indexedDB, IDBKeyRange };

async function tablesOf(
  name: string,
): Promise<{ version: number; tables: string[]; rows: unknown[] }> {
  const db = new Dexie(name, deps);
  await db.open();
  const tables = db.tables.map((t) => t.name).sort();
  const rows = await Promise.all(tables.map((t) => db.table(t).toArray()));
  const version = db.verno;
  db.close();
  return { version, tables, rows };
}

describe('Dexie store databases', () => {
  it("refuses another application's database: STORE_FOREIGN, database untouched", async () => {
    const other = new Dexie('shared-name', deps);
    other.version(3).stores({ customers: '++id, name' });
    await other.open();
    await other.table('customers').add({ name: 'Ada' });
    other.close();
    const before = await tablesOf('shared-name');
    await expect(new DexieStore({ name: 'shared-name', ...deps }).open()).rejects.toMatchObject({
      code: 'STORE_FOREIGN',
    });
    expect(await tablesOf('shared-name')).toEqual(before);
  });

  it('refuses a store from a newer meshsync: STORE_VERSION, database untouched', async () => {
    const store = new DexieStore({ name: 'newer', ...deps });
    await store.open();
    await store.close();
    const later = new Dexie('newer', deps);
    later.version(5).stores({
      records: '[c+i], &seq',
      cursors: 'peer',
      conflicts: 'key',
      meta: 'key',
      extra: 'id',
    });
    await later.open();
    later.close();
    const before = await tablesOf('newer');
    await expect(new DexieStore({ name: 'newer', ...deps }).open()).rejects.toMatchObject({
      code: 'STORE_VERSION',
    });
    expect(await tablesOf('newer')).toEqual(before);
  });

  it('keeps data and the device across a restart of the peer', async () => {
    const first = await createPeer({
      store: new DexieStore({ name: 'restart', ...deps }),
      device: 'dexieA1',
      logger: silentLogger,
    });
    await first.collection('tasks').put('t1', { title: 'persisted' });
    await first.stop();
    const second = await createPeer({
      store: new DexieStore({ name: 'restart', ...deps }),
      logger: silentLogger,
    });
    expect(second.device).toBe('dexieA1');
    expect(await second.collection('tasks').get('t1')).toEqual({ title: 'persisted' });
    await second.stop();
  });
});
