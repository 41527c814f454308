import { afterEach, describe, expect, it } from 'vitest';
import type { Peer } from '../../peer/peer.js';
import { createPeer } from '../../peer/peer.js';
import { MemoryStore } from '../../peer/store/memory-store.js';
import type { ChangeEvent } from '../../peer/replica.js';
import {
  ERROR_CODES,
  MeshsyncError,
  isErrorCode,
  isMeshsyncError,
  toMeshsyncError,
} from '../../shared/errors.js';
import { silentLogger } from '../../shared/log.js';
import { link, memoryPeer, eventually } from '../support/peers.js';

const peers: Peer[] = [];
async function make(name: string): Promise<Peer> {
  const p = await memoryPeer(name);
  peers.push(p);
  return p;
}
afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.stop()));
});

async function codeOf(promise: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (err) {
    expect(err).toBeInstanceOf(MeshsyncError);
    return (err as MeshsyncError).code;
  }
  return undefined;
}

describe('collection API', () => {
  it('put, get, patch, delete and list', async () => {
    const p = await make('apiA1');
    const tasks = p.collection<{ title: string; done?: boolean }>('tasks');
    expect(await tasks.put('b', { title: 'second' })).toEqual({ title: 'second' });
    await tasks.put('a', { title: 'first', done: false });
    expect(await tasks.patch('a', { done: true })).toEqual({ title: 'first', done: true });
    expect(await tasks.list()).toEqual([
      { id: 'a', value: { title: 'first', done: true } },
      { id: 'b', value: { title: 'second' } },
    ]);
    expect(await tasks.list({ after: 'a' })).toEqual([{ id: 'b', value: { title: 'second' } }]);
    expect(await tasks.list({ limit: 1 })).toHaveLength(1);
    expect(await tasks.delete('a')).toBe(true);
    expect(await tasks.delete('a')).toBe(false);
    expect(await tasks.get('a')).toBeNull();
    expect(await tasks.list()).toEqual([{ id: 'b', value: { title: 'second' } }]);
  });

  it('putMany writes all records in one transaction, or none', async () => {
    const p = await make('bulkA1');
    const c = p.collection('c');
    const seen: string[] = [];
    c.subscribe((e) => seen.push(e.id));
    expect(
      await c.putMany([
        ['a', { n: 1 }],
        ['b', { n: 2 }],
        ['a', { n: 3 }],
      ]),
    ).toBe(2);
    expect(await c.list()).toEqual([
      { id: 'a', value: { n: 3 } },
      { id: 'b', value: { n: 2 } },
    ]);
    expect(seen.sort()).toEqual(['a', 'b']);
    const head = await p.replica.head();
    await expect(
      c.putMany([
        ['x', { ok: true }],
        ['', { bad: 'id' }],
      ]),
    ).rejects.toMatchObject({ code: 'INVALID_ID' });
    await expect(
      c.putMany([
        ['x', { ok: true }],
        ['y', { big: 'z'.repeat(1_100_000) }],
      ]),
    ).rejects.toMatchObject({
      code: 'VALUE_TOO_LARGE',
    });
    expect(await c.get('x')).toBeNull();
    expect(await p.replica.head()).toBe(head);
    expect(await c.putMany([])).toBe(0);
  });

  it('keeps a private copy of what the app passed in', async () => {
    const p = await make('apiA2');
    const value = { tags: ['x'] };
    await p.collection('c').put('k', value);
    value.tags.push('mutated');
    expect(await p.collection('c').get('k')).toEqual({ tags: ['x'] });
  });

  it('lists past many tombstones', async () => {
    const p = await make('apiA3');
    const c = p.collection('c');
    for (let i = 0; i < 30; i++) await c.put(`k${String(i).padStart(2, '0')}`, { i });
    for (let i = 0; i < 25; i++) await c.delete(`k${String(i).padStart(2, '0')}`);
    expect((await c.list({ limit: 3 })).map((r) => r.id)).toEqual(['k25', 'k26', 'k27']);
  });

  it('refuses bad input with stable codes and changes nothing', async () => {
    const p = await make('apiA4');
    const c = p.collection('c');
    expect(await codeOf(() => p.collection('bad name!'))).toBe('INVALID_ID');
    expect(await codeOf(c.put('', { a: 1 }))).toBe('INVALID_ID');
    expect(await codeOf(c.put('x'.repeat(257), { a: 1 }))).toBe('INVALID_ID');
    expect(await codeOf(c.put('k', 'not an object' as never))).toBe('INVALID_VALUE');
    expect(await codeOf(c.put('k', [1, 2] as never))).toBe('INVALID_VALUE');
    expect(await codeOf(c.put('k', { f: () => 1 } as never))).toBe('INVALID_VALUE');
    expect(await codeOf(c.put('k', { n: Number.NaN }))).toBe('INVALID_VALUE');
    expect(await codeOf(c.put('k', { d: new Date() } as never))).toBe('INVALID_VALUE');
    expect(await codeOf(c.put('k', { u: undefined } as never))).toBe('INVALID_VALUE');
    expect(await codeOf(c.put('k', JSON.parse('{"__proto__": 1}') as never))).toBe('INVALID_VALUE');
    expect(await codeOf(c.put('k', { '': 1 }))).toBe('INVALID_VALUE');
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = [deep];
    expect(await codeOf(c.put('k', { deep } as never))).toBe('INVALID_VALUE');
    expect(await codeOf(c.put('k', { big: 'x'.repeat(1024 * 1024) }))).toBe('VALUE_TOO_LARGE');
    expect(await codeOf(c.patch('missing', { a: 1 }))).toBe('NOT_FOUND');
    expect(await p.replica.head()).toBe(0);
  });

  it('change events for local and remote changes', async () => {
    const a = await make('evA1');
    const b = await make('evB1');
    const seenA: ChangeEvent[] = [];
    const seenB: ChangeEvent[] = [];
    const off = a.collection('c').subscribe((e) => seenA.push(e));
    b.collection('c').subscribe((e) => seenB.push(e));
    b.collection('other').subscribe(() => {
      throw new Error('not for this collection');
    });
    await a.collection('c').put('k', { v: 1 });
    expect(seenA).toEqual([{ collection: 'c', id: 'k', value: { v: 1 }, source: 'local' }]);
    await link(a, b);
    await eventually(() => seenB.length === 1);
    expect(seenB[0]).toEqual({
      collection: 'c',
      id: 'k',
      value: { v: 1 },
      source: 'remote',
      peer: 'evA1',
    });
    off();
    await a.collection('c').delete('k');
    await eventually(() => seenB.length === 2);
    expect(seenB[1]).toMatchObject({ id: 'k', value: null, source: 'remote' });
    expect(seenA).toHaveLength(1);
  });

  it('keeps the device id of its store and refuses another', async () => {
    const store = new MemoryStore();
    const first = await createPeer({ store, logger: silentLogger });
    expect(first.device).toMatch(/^[a-z0-9]{16}$/);
    const again = await createPeer({ store, logger: silentLogger });
    expect(again.device).toBe(first.device);
    await expect(
      createPeer({ store, device: 'someoneElse', logger: silentLogger }),
    ).rejects.toMatchObject({
      code: 'INVALID_OPTION',
    });
    await expect(createPeer({ store: new MemoryStore(), device: 'x' })).rejects.toMatchObject({
      code: 'INVALID_ID',
    });
    await expect(
      memoryPeer('okid1', { sync: { pageRows: -1 } }).then((p) => p.connect(null as never)),
    ).rejects.toMatchObject({
      code: 'INVALID_OPTION',
    });
  });

  it('a stopped peer refuses new sessions and its store refuses work', async () => {
    const p = await memoryPeer('stopA1');
    await p.stop();
    await p.stop(); // idempotent
    expect(await codeOf(() => p.connect(null as never))).toBe('CLOSED');
    expect(await codeOf(p.collection('c').get('k'))).toBe('CLOSED');
  });
});

describe('errors', () => {
  it('carry a stable code in the message, the code field and the type guards', () => {
    const err = new MeshsyncError('CLOCK_DRIFT', 'too far ahead', { details: { aheadMs: 5 } });
    expect(err.code).toBe('CLOCK_DRIFT');
    expect(err.message).toBe('CLOCK_DRIFT: too far ahead');
    expect(err.name).toBe('MeshsyncError');
    expect(err.details).toEqual({ aheadMs: 5 });
    expect(isMeshsyncError(err, 'CLOCK_DRIFT')).toBe(true);
    expect(isMeshsyncError(err, 'TIMEOUT')).toBe(false);
    expect(isMeshsyncError(new Error('x'))).toBe(false);
    expect(toMeshsyncError(err, 'STORE_FAILED')).toBe(err);
    const wrapped = toMeshsyncError(new TypeError('boom'), 'STORE_FAILED');
    expect(wrapped.code).toBe('STORE_FAILED');
    expect(wrapped.cause).toBeInstanceOf(TypeError);
    expect(ERROR_CODES.every((c) => isErrorCode(c))).toBe(true);
    expect(isErrorCode('NOPE')).toBe(false);
  });
});
