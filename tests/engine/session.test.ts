import { afterEach, describe, expect, it } from 'vitest';
import type { Peer } from '../../peer/peer.js';
import { MemoryStore } from '../../peer/store/memory-store.js';
import { createMemoryTransportPair } from '../../peer/transport/memory-transport.js';
import type { SyncProgress } from '../../peer/sync/session-types.js';
import { encodeMessage } from '../../shared/protocol/codec.js';
import { asDeviceId } from '../../shared/ids.js';
import { eventually, link, memoryPeer } from '../support/peers.js';

const peers: Peer[] = [];
async function make(name: string, options: Parameters<typeof memoryPeer>[1] = {}): Promise<Peer> {
  const p = await memoryPeer(name, options);
  peers.push(p);
  return p;
}
afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.stop()));
});
const manual = { a: { autoPull: false }, b: { autoPull: false } };

async function fill(p: Peer, collection: string, n: number, prefix = 'r'): Promise<void> {
  for (let i = 0; i < n; i++)
    await p.collection(collection).put(`${prefix}${String(i).padStart(4, '0')}`, { i });
}

describe('sync session', () => {
  it('either side can pull and push, all four at once', async () => {
    const a = await make('bothA');
    const b = await make('bothB');
    await fill(a, 'x', 30, 'a');
    await fill(b, 'x', 30, 'b');
    const [sa, sb] = await link(a, b, {
      a: { autoPull: false, pageRows: 7 },
      b: { autoPull: false, pageRows: 5 },
    });
    const results = await Promise.all([sa.pull(), sb.pull(), sa.push(), sb.push()]);
    expect(results.every((r) => r.cursor > 0)).toBe(true);
    expect(await a.collection('x').list()).toEqual(await b.collection('x').list());
    expect((await a.collection('x').list()).length).toBe(60);
    expect(sa.status().lastError).toBeNull();
    expect(sb.status().lastError).toBeNull();
  });

  it('does not echo rows back to the device they came from', async () => {
    const a = await make('echoA');
    const b = await make('echoB');
    await fill(a, 'x', 10);
    const [sa, sb] = await link(a, b, manual);
    expect((await sb.pull()).rows).toBe(10);
    expect((await sb.push()).rows).toBe(0); // everything B has came from A, unchanged
    expect((await sa.pull()).rows).toBe(0);
    await b.collection('x').patch('r0003', { i: 33 });
    expect((await sb.push()).rows).toBe(1);
    expect(await a.collection('x').get('r0003')).toEqual({ i: 33 });
  });

  it('a "changed" notice makes the other side pull at once', async () => {
    const a = await make('noteA');
    const b = await make('noteB');
    await link(a, b);
    await a.collection('x').put('k', { v: 1 });
    await eventually(async () => (await b.collection('x').get('k')) !== null);
    await b.collection('x').patch('k', { v: 2 });
    await eventually(async () => (await a.collection('x').get('k'))?.v === 2);
  });

  it('reports progress per page with what remains', async () => {
    const a = await make('progA');
    const b = await make('progB');
    await fill(a, 'x', 25);
    const [, sb] = await link(a, b, {
      a: { autoPull: false },
      b: { autoPull: false, pageRows: 20 }, // pulls ask for half: pages of 10
    });
    const seen: SyncProgress[] = [];
    sb.events.on('progress', (p) => seen.push(p));
    const result = await sb.pull();
    expect(result).toMatchObject({ direction: 'pull', pages: 3, rows: 25 });
    expect(seen.map((p) => p.rows)).toEqual([10, 20, 25]);
    expect(seen.map((p) => p.pending)).toEqual([15, 5, 0]);
    expect(sb.status()).toMatchObject({
      state: 'ready',
      transport: 'memory',
      remote: 'progA',
      rowsIn: 25,
    });
    expect(b.status().connected).toBe(1);
  });

  it('a pull asks for the next half page as one arrives, never more than pageRows ahead', async () => {
    const a = await make('windowA');
    const b = await make('windowB');
    await fill(a, 'x', 100);
    const [sa, sb] = await link(a, b, {
      a: { autoPull: false },
      b: { autoPull: false, pageRows: 20 },
    });
    const asked: Array<{ after: number; rows: number }> = [];
    sa.transport.on('message', (frame) => {
      if (frame[3] !== 3) return; // pull
      const body = JSON.parse(new TextDecoder().decode(frame.subarray(8))) as (typeof asked)[0];
      asked.push({ after: body.after, rows: body.rows });
    });
    const askedAtFirstPage: number[] = [];
    const ahead: number[] = [];
    sb.events.on('progress', (p) => {
      if (askedAtFirstPage.length === 0) askedAtFirstPage.push(asked.length);
      ahead.push(sa.status().rowsOut - p.rows); // sent to B, not yet applied by it
    });
    const result = await sb.pull();
    expect(result).toMatchObject({ pages: 10, rows: 100, cursor: 100 });
    expect(asked).toEqual(Array.from({ length: 10 }, (_, k) => ({ after: 10 * k, rows: 10 })));
    expect(askedAtFirstPage[0]).toBe(2); // the second page was asked for before the first applied
    expect(Math.max(...ahead)).toBeLessThanOrEqual(20);
    expect(await b.collection('x').list({ limit: 200 })).toEqual(
      await a.collection('x').list({ limit: 200 }),
    );
  });

  it('cuts pages by size as well as by rows (a larger row goes alone)', async () => {
    const a = await make('sizeA');
    const b = await make('sizeB');
    for (let k = 0; k < 20; k++)
      await a.collection('x').put(`r${String(k).padStart(2, '0')}`, { text: 'y'.repeat(250) });
    await a.collection('x').put('zbig', { text: 'z'.repeat(5000) });
    const [, sb] = await link(a, b, {
      a: { autoPull: false },
      b: { autoPull: false, pageBytes: 1000 },
    });
    const pages: number[] = [];
    sb.events.on('progress', (p) => pages.push(p.rows));
    const result = await sb.pull();
    const perPage = pages.map((rows, k) => rows - (pages[k - 1] ?? 0));
    expect(result.rows).toBe(21);
    expect(Math.max(...perPage.slice(0, -1))).toBeLessThanOrEqual(3); // ~300 chars a row, 1000 per page
    expect(perPage[perPage.length - 1]).toBe(1); // the 5000-char row, alone
    expect((await b.collection('x').list()).length).toBe(21);
  });

  it('resumes from the durable cursor after a cut, without re-sending applied pages', async () => {
    const store = new MemoryStore();
    const a = await make('cutA');
    const b = await make('cutB', { store });
    await fill(a, 'x', 50);
    const [ta, tb] = createMemoryTransportPair();
    a.connect(ta, { autoPull: false });
    const sb = b.connect(tb, { autoPull: false, pageRows: 20 }); // pages of 10
    await sb.whenReady();
    let pages = 0;
    sb.events.on('progress', () => {
      if (++pages === 2) ta.close('cable pulled'); // cut mid-sync, after two pages
    });
    await expect(sb.pull()).rejects.toMatchObject({ code: 'CLOSED' });
    const got = (await b.collection('x').list()).length;
    expect(got).toBe(20);
    const [, sb2] = await link(a, b, manual);
    const rest = await sb2.pull();
    expect(rest.rows).toBe(30); // only what was missing
    expect((await b.collection('x').list()).length).toBe(50);
  });

  it('selective sync: a peer receives only the collections it asked for', async () => {
    const a = await make('selA');
    const b = await make('selB');
    await fill(a, 'tasks', 3);
    await fill(a, 'photos', 3);
    await fill(b, 'photos', 2, 'b');
    const [sa, sb] = await link(a, b, {
      a: { autoPull: false },
      b: { autoPull: false, want: ['tasks'] },
    });
    expect((await sb.pull()).rows).toBe(3);
    expect((await sa.push()).rows).toBe(0); // nothing more B wants
    expect(await b.collection('photos').list()).toHaveLength(2);
    expect(sa.status().remoteWants).toEqual(['tasks']);
    expect((await sa.pull()).rows).toBe(2); // A wants everything
    expect(await a.collection('photos').list()).toHaveLength(5);
  });

  it('refuses a page from a clock too far ahead, and takes it once the clock catches up', async () => {
    let bNow = 1_800_000_000_000;
    const a = await make('skewA', { now: () => bNow + 10 * 60_000 }); // 10 minutes ahead
    const b = await make('skewB', { now: () => bNow, maxDriftMs: 5 * 60_000 });
    await a.collection('x').put('k', { v: 1 });
    const [, sb] = await link(a, b, manual);
    await expect(sb.pull()).rejects.toMatchObject({ code: 'CLOCK_DRIFT' });
    expect(await b.collection('x').get('k')).toBeNull();
    expect(await b.replica.head()).toBe(0);
    bNow += 6 * 60_000;
    expect((await sb.pull()).rows).toBe(1);
    expect(await b.collection('x').get('k')).toEqual({ v: 1 });
  });

  it('starts over when the remote store is replaced (new epoch)', async () => {
    const a1 = await make('epochA');
    const b = await make('epochB');
    await fill(a1, 'x', 5);
    const [, sb] = await link(a1, b, manual);
    expect((await sb.pull()).cursor).toBe(5);
    await a1.stop();
    const a2 = await make('epochA'); // same device, fresh store: its seqs restart at 0
    await fill(a2, 'y', 2);
    const [, sb2] = await link(a2, b, manual);
    expect(sb2.status().cursorIn).toBe(0);
    expect((await sb2.pull()).rows).toBe(2);
  });

  it('logs a same-field conflict where the writes meet and lets the app resolve it', async () => {
    const a = await make('confA');
    const b = await make('confB');
    await a.collection('t').put('k', { title: 'base', n: 0 });
    const [sa, sb] = await link(a, b, manual);
    await sb.pull();
    await a.collection('t').patch('k', { title: 'from A' });
    await b.collection('t').patch('k', { title: 'from B', n: 1 });
    await sa.pull();
    await sb.pull();
    const va = await a.collection('t').get('k');
    expect(va).toEqual(await b.collection('t').get('k'));
    // The conflict is logged where the two writes met: A pulled B's edit while holding its own.
    // A's merged state equals B's, so nothing goes back and B has nothing to log.
    const [ca] = await a.conflicts();
    expect(ca).toMatchObject({ collection: 't', id: 'k', field: 'title' });
    expect(await b.conflicts()).toEqual([]);
    expect(ca!.winner.v).toBe(va!.title);
    expect([ca!.winner.v, ca!.loser.v].sort()).toEqual(['from A', 'from B']);
    await a.resolveConflict(ca!.key, 'take-loser');
    expect(await a.conflicts()).toEqual([]);
    expect((await a.collection('t').get('k'))!.title).toBe(ca!.loser.v);
    await sb.pull();
    expect(await b.collection('t').get('k')).toEqual(await a.collection('t').get('k'));
    await expect(a.resolveConflict('nope', 'keep-winner')).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('refuses a peer with no common protocol version', async () => {
    const a = await make('verA');
    const [ta, raw] = createMemoryTransportPair();
    const session = a.connect(ta);
    const got: Uint8Array[] = [];
    raw.on('message', (f) => got.push(f));
    await raw.send(
      encodeMessage({
        type: 'hello',
        min: 7,
        max: 9,
        device: asDeviceId('future1'),
        epoch: 'abcdefgh',
        caps: [],
        want: null,
        maxFrame: 1 << 20,
      }),
    );
    await expect(session.whenReady()).rejects.toMatchObject({ code: 'PROTOCOL_VERSION' });
    expect(session.state).toBe('closed');
  });

  it('refuses a peer that claims our own device id', async () => {
    const a = await make('selfA');
    const [ta, raw] = createMemoryTransportPair();
    const session = a.connect(ta);
    await raw.send(
      encodeMessage({
        type: 'hello',
        min: 1,
        max: 1,
        device: asDeviceId('selfA'),
        epoch: 'abcdefgh',
        caps: [],
        want: null,
        maxFrame: 1 << 20,
      }),
    );
    await expect(session.whenReady()).rejects.toMatchObject({ code: 'PROTOCOL_STATE' });
  });

  it('times out a handshake that never completes', async () => {
    const a = await make('slowA');
    const [ta] = createMemoryTransportPair();
    const session = a.connect(ta, { handshakeTimeoutMs: 50 });
    await expect(session.whenReady()).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('closing either end closes both sessions and fails pending work with CLOSED', async () => {
    const a = await make('closeA');
    const b = await make('closeB');
    const [sa, sb] = await link(a, b, manual);
    sa.close('bye now');
    await eventually(() => sb.state === 'closed');
    expect(sb.status().closeReason).toMatch(/bye now|closed/);
    await expect(sa.pull()).rejects.toMatchObject({ code: 'CLOSED' });
    expect(a.status().connected).toBe(0);
  });
});

describe('cancellation', () => {
  it('an aborted pull stops at a page boundary and the next pull resumes', async () => {
    const a = await make('abortA');
    const b = await make('abortB');
    await fill(a, 'x', 40);
    const [, sb] = await link(a, b, {
      a: { autoPull: false },
      b: { autoPull: false, pageRows: 20 }, // pages of 10
    });
    const controller = new AbortController();
    sb.events.on('progress', () => controller.abort());
    await expect(sb.pull({ signal: controller.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    await eventually(async () => (await b.collection('x').list()).length === 10); // the page in hand
    await new Promise((r) => setTimeout(r, 20));
    expect((await b.collection('x').list()).length).toBe(10); // and no more after it
    expect(sb.state).toBe('ready');
    expect((await sb.pull()).rows).toBe(30);
  });
});

describe('store epochs', () => {
  it('rotateEpoch makes peers start over (after restoring a backup by hand)', async () => {
    const a = await make('rotA1');
    const b = await make('rotB1');
    await fill(b, 'x', 5);
    const [sa] = await link(a, b, manual);
    expect((await sa.pull()).rows).toBe(5);
    const old = b.replica.epoch;
    await b.replica.rotateEpoch();
    expect(b.replica.epoch).not.toBe(old);
    await eventually(() => sa.state === 'closed'); // sessions announced the old epoch
    const [sa2] = await link(a, b, manual);
    expect(sa2.status().cursorIn).toBe(0);
    expect((await sa2.pull()).rows).toBe(5); // everything again; merging makes it harmless
  });

  it('a store restored from an older copy is detected when a peer has seen more of it', async () => {
    const a = await make('restA1');
    const b = await make('restB1');
    await fill(b, 'x', 10);
    const [sa] = await link(a, b, manual);
    await sa.pull(); // A's cursor into B: 10
    sa.close();
    await b.stop();
    // B comes back from a backup taken when it held 3 records: same device, same epoch.
    const restored = new MemoryStore();
    const b2 = await make('restB1', { store: restored });
    await restored.setMeta('epoch', b.replica.epoch);
    const b3 = await make('restB1', { store: restored }); // reopen: now on the old epoch
    await fill(b3, 'x', 3);
    await b3.collection('y').put('new', { after: 'restore' });
    expect(b3.replica.epoch).toBe(b.replica.epoch);
    const [ta, tb] = createMemoryTransportPair();
    const s1 = a.connect(ta, { autoPull: false });
    b3.connect(tb, { autoPull: false });
    await eventually(() => s1.state === 'closed'); // B3 sees cursor 10 > head 4: rotates, closes
    expect(b3.replica.epoch).not.toBe(b.replica.epoch);
    const [s2] = await link(a, b3, manual);
    await s2.pull();
    expect(await a.collection('y').get('new')).toEqual({ after: 'restore' }); // not skipped
    await b2.stop();
  });
});
