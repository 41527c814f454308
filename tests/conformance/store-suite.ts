import type { StorePort } from '../../peer/store/store-port.js';
import { encodeStamp, type Stamp } from '../../shared/hlc.js';
import { encodeRow } from '../../shared/protocol/wire-row.js';
import type { CollectionName, DeviceId, RecordId } from '../../shared/ids.js';
import {
  originTag,
  type ConflictEntry,
  type OriginTag,
  type RecordState,
  type StoredRecord,
} from '../../shared/record.js';
import { equal, ok, rejects } from './check.js';

/** How a conformance run makes and re-opens stores of one adapter. */
export interface StoreHarness {
  name: string;
  /** A new, empty, opened store. */
  create(): Promise<StorePort>;
  /** Closes `store` and opens the same data again; omit for stores that do not persist. */
  reopen?(store: StorePort): Promise<StorePort>;
  /** The store offers pre-encoded rows (`changesSinceEncoded`). */
  encodedRows?: boolean;
  /** Called with every store a case made, after the case. */
  dispose?(store: StorePort): Promise<void>;
}

export interface StoreCase {
  name: string;
  /** Only for stores that persist (harnesses with `reopen`). */
  persistent?: boolean;
  /** Only for stores that offer `changesSinceEncoded` (harnesses with `encodedRows`). */
  encoded?: boolean;
  run(h: StoreHarness, track: (s: StorePort) => StorePort): Promise<void>;
}

const dev = 'devA1' as DeviceId;
const peer = 'devB1' as DeviceId;
/** An origin tag as the engine writes it (device@epoch). */
const origin = originTag(peer, 'epoch0001');
const c1 = 'tasks' as CollectionName;
const c2 = 'notes' as CollectionName;
const st = (n: number): Stamp => encodeStamp(1_700_000_000_000 + n, 0, dev);
const id = (s: string): RecordId => s as RecordId;

function rec(
  c: CollectionName,
  i: string,
  n: number,
  extra: Partial<RecordState> = {},
): RecordState {
  return { c, i: id(i), a: st(n), d: null, f: { title: { s: st(n), v: `${i}@${n}` } }, ...extra };
}

/** Writes records through `update`, as the engine does. */
async function write(
  store: StorePort,
  states: RecordState[],
  from: OriginTag | null = null,
): Promise<number> {
  const { lastSeq } = await store.update({ keys: states.map((s) => [s.c, s.i] as const) }, () => ({
    records: states.map((state) => ({ state, origin: from })),
    result: undefined,
  }));
  return lastSeq;
}

function strip(r: StoredRecord | undefined): unknown {
  return r && { c: r.c, i: r.i, a: r.a, d: r.d, f: r.f, seq: r.seq, o: r.o };
}

async function allChanges(store: StorePort, page: number): Promise<StoredRecord[]> {
  const out: StoredRecord[] = [];
  let after = 0;
  for (;;) {
    const batch = await store.changesSince(after, page);
    if (batch.length === 0) return out;
    out.push(...batch);
    after = batch[batch.length - 1]!.seq;
  }
}

export const storeCases: StoreCase[] = [
  {
    name: 'an empty store',
    async run(h, track) {
      const s = track(await h.create());
      equal(await s.lastSeq(), 0, 'lastSeq');
      equal(await s.get(c1, id('x')), undefined, 'get');
      equal(await s.list(c1, { limit: 10 }), [], 'list');
      equal(await s.changesSince(0, 10), [], 'changesSince');
      equal(await s.getCursor(peer), undefined, 'cursor');
      equal(await s.conflicts(), [], 'conflicts');
      equal(await s.getMeta('device'), undefined, 'meta');
      await s.open(); // idempotent
      equal(await s.lastSeq(), 0, 'lastSeq after second open');
    },
  },
  {
    name: 'update gives consecutive seqs in order and keeps every part of a record',
    async run(h, track) {
      const s = track(await h.create());
      const a = rec(c1, 'a', 1);
      const b: RecordState = {
        c: c1,
        i: id('b'),
        a: st(2),
        d: st(1),
        f: {
          nested: { s: st(2), p: st(1), v: { deep: [1, 'two', null, { x: true }], n: -1.5e300 } },
          gone: { s: st(2), p: st(1) },
          unicode: { s: st(2), v: 'héllo ✓ 🚀 \u0000 "quotes"' },
          toString: { s: st(2), v: 0 },
        },
      };
      equal(await write(s, [a, b], origin), 2, 'lastSeq after two');
      equal(strip(await s.get(c1, id('a'))), { ...a, seq: 1, o: origin }, 'record a');
      equal(strip(await s.get(c1, id('b'))), { ...b, seq: 2, o: origin }, 'record b');
      const tomb: RecordState = { c: c2, i: id('t'), a: null, d: st(3), f: {} };
      equal(await write(s, [tomb]), 3, 'lastSeq after tombstone');
      equal(strip(await s.get(c2, id('t'))), { ...tomb, seq: 3, o: null }, 'tombstone');
    },
  },
  {
    name: 'rewriting a record moves it to the head; changesSince pages in seq order',
    async run(h, track) {
      const s = track(await h.create());
      for (let n = 0; n < 10; n++) await write(s, [rec(c1, `r${n}`, n)]);
      await write(s, [rec(c1, 'r3', 20)]);
      equal(await s.lastSeq(), 11, 'lastSeq');
      const all = await allChanges(s, 3);
      equal(
        all.map((r) => r.i),
        ['r0', 'r1', 'r2', 'r4', 'r5', 'r6', 'r7', 'r8', 'r9', 'r3'],
        'seq order',
      );
      equal(
        all.map((r) => r.seq),
        [1, 2, 3, 5, 6, 7, 8, 9, 10, 11],
        'seqs',
      );
      equal(
        (await s.changesSince(9, 10)).map((r) => r.i),
        ['r9', 'r3'],
        'after 9',
      );
      equal(await s.changesSince(11, 10), [], 'after head');
      equal((await s.changesSince(0, 1)).length, 1, 'limit 1');
    },
  },
  {
    name: 'list pages one collection in id order, tombstones included',
    async run(h, track) {
      const s = track(await h.create());
      const ids = ['b', 'a', 'c10', 'c2', 'A', '_', 'z'];
      await write(
        s,
        ids.map((i, n) => rec(c1, i, n)),
      );
      await write(s, [rec(c2, 'other', 9), { c: c1, i: id('dead'), a: null, d: st(9), f: {} }]);
      const sorted = [...ids, 'dead'].sort();
      equal(
        (await s.list(c1, { limit: 100 })).map((r) => r.i),
        sorted,
        'all in order',
      );
      equal(
        (await s.list(c1, { limit: 3 })).map((r) => r.i),
        sorted.slice(0, 3),
        'limit',
      );
      equal(
        (await s.list(c1, { after: 'b', limit: 100 })).map((r) => r.i),
        sorted.filter((x) => x > 'b'),
        'after',
      );
      equal(
        (await s.list(c2, { limit: 100 })).map((r) => r.i),
        ['other'],
        'other collection',
      );
      equal(await s.list('none' as CollectionName, { limit: 5 }), [], 'unknown collection');
    },
  },
  {
    name: 'list paging visits every id exactly once, whatever the characters',
    async run(h, track) {
      const s = track(await h.create());
      const ids = [
        'a',
        'é',
        '\uffff',
        '🚀',
        '\ud7ff',
        '\ue000',
        'Z',
        '0',
        ' space',
        'x'.repeat(256),
      ];
      await write(
        s,
        ids.map((i, n) => rec(c1, i, n)),
      );
      const seen: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await s.list(c1, { limit: 2, ...(after === undefined ? {} : { after }) });
        if (page.length === 0) break;
        seen.push(...page.map((r) => r.i));
        after = page[page.length - 1]!.i;
      }
      equal([...seen].sort(), [...ids].sort(), 'every id once');
    },
  },
  {
    name: 'the plan sees current records and the cursor; records, cursor, conflicts and meta land together',
    async run(h, track) {
      const s = track(await h.create());
      await write(s, [rec(c1, 'a', 1)]);
      const cursor = { seq: 7, epoch: 'epoch0001', filter: '*' };
      const conflict: ConflictEntry = {
        key: 'tasks\u0000a\u0000title\u0000x',
        collection: c1,
        id: id('a'),
        field: 'title',
        winner: { s: st(3), v: 'w' },
        loser: { s: st(2), p: st(1), v: 'l' },
        at: 123,
      };
      const out = await s.update(
        {
          keys: [
            [c1, id('a')],
            [c1, id('missing')],
          ],
          cursorPeer: peer,
        },
        (ctx) => {
          equal(ctx.record(c1, id('a'))?.i, 'a', 'record a');
          equal(ctx.record(c1, id('missing')), undefined, 'absent record');
          equal(ctx.cursor, undefined, 'no cursor yet');
          return {
            records: [{ state: rec(c1, 'a', 2), origin }],
            cursor: { peer, state: cursor },
            conflicts: [conflict],
            meta: { hlc: 'x1', epoch: 'e1' },
            result: 'done',
          };
        },
      );
      equal(out, { result: 'done', lastSeq: 2 }, 'outcome');
      equal(await s.getCursor(peer), cursor, 'cursor');
      equal(await s.conflicts(), [conflict], 'conflicts');
      equal(await s.getMeta('hlc'), 'x1', 'meta hlc');
      await s.update({ keys: [], cursorPeer: peer }, (ctx) => {
        equal(ctx.cursor, cursor, 'cursor visible to the next plan');
        return { records: [], result: undefined };
      });
      await s.update({ keys: [] }, () => ({ records: [], conflicts: [conflict], result: 0 }));
      equal((await s.conflicts()).length, 1, 'conflicts keyed, not duplicated');
      equal(await s.removeConflict(conflict.key), true, 'remove');
      equal(await s.removeConflict(conflict.key), false, 'remove again');
      equal(await s.conflicts(), [], 'no conflicts');
    },
  },
  {
    name: 'a plan that throws changes nothing',
    async run(h, track) {
      const s = track(await h.create());
      await write(s, [rec(c1, 'a', 1)]);
      const before = await allChanges(s, 100);
      await rejects(
        () =>
          s.update({ keys: [[c1, id('a')]], cursorPeer: peer }, () => {
            throw Object.assign(new Error('no'), { code: 'CURSOR_GAP' });
          }),
        'CURSOR_GAP',
        'plan error propagates',
      );
      equal(await allChanges(s, 100), before, 'records untouched');
      equal(await s.lastSeq(), 1, 'lastSeq untouched');
      equal(await s.getCursor(peer), undefined, 'cursor untouched');
    },
  },
  {
    name: 'pre-encoded rows are exactly encodeRow of the records',
    encoded: true,
    async run(h, track) {
      const s = track(await h.create());
      if (!s.changesSinceEncoded) throw new Error('store offers no changesSinceEncoded');
      const states: RecordState[] = [
        rec(c1, 'a', 1),
        {
          c: c1,
          i: id('é "q"'),
          a: st(5),
          d: st(5),
          f: { x: { s: st(5), p: st(2), v: { n: [1, null] } }, y: { s: st(3), v: 'y' } },
        },
        { c: c2, i: id('t'), a: st(2), d: st(4), f: {} },
        {
          c: c2,
          i: id('r'),
          a: st(6),
          d: st(1),
          f: { gone: { s: st(6), p: st(2) }, kept: { s: st(6), v: true } },
        },
      ];
      await write(s, states, origin);
      const encoded = await s.changesSinceEncoded(0, 10);
      const records = await s.changesSince(0, 10);
      equal(
        encoded.map((e) => e.json),
        records.map((r) => encodeRow(r)),
        'same text',
      );
      equal(
        encoded.map((e) => [e.seq, e.c, e.o]),
        records.map((r) => [r.seq, r.c, r.o]),
        'same seq, collection, origin',
      );
      equal(
        records.map((r) => ({ c: r.c, i: r.i, a: r.a, d: r.d, f: r.f })),
        states,
        'states round-trip',
      );
    },
  },
  {
    name: 'meta values overwrite',
    async run(h, track) {
      const s = track(await h.create());
      await s.setMeta('k', 'one');
      await s.setMeta('k', 'two');
      equal(await s.getMeta('k'), 'two', 'meta');
    },
  },
  {
    name: 'concurrent updates are serialised: unique consecutive seqs, nothing lost',
    async run(h, track) {
      const s = track(await h.create());
      await Promise.all(Array.from({ length: 50 }, (_, n) => write(s, [rec(c1, `k${n % 10}`, n)])));
      equal(await s.lastSeq(), 50, 'lastSeq');
      const all = await allChanges(s, 7);
      equal(all.length, 10, 'ten records');
      equal(new Set(all.map((r) => r.seq)).size, 10, 'unique seqs');
      // Each key's latest write wins in issue order.
      for (const r of all)
        equal(r.f.title?.v, `${r.i}@${40 + Number(r.i.slice(1))}`, `latest ${r.i}`);
    },
  },
  {
    name: 'ten thousand records page through changesSince exactly once',
    async run(h, track) {
      const s = track(await h.create());
      for (let n = 0; n < 10_000; n += 500) {
        await write(
          s,
          Array.from({ length: 500 }, (_, k) => rec(c1, `r${n + k}`, n + k)),
        );
      }
      const all = await allChanges(s, 777);
      equal(all.length, 10_000, 'count');
      ok(
        all.every((r, k) => r.seq === k + 1),
        'seqs 1..10000 in order',
      );
    },
  },
  {
    name: 'everything survives close and reopen',
    persistent: true,
    async run(h, track) {
      if (!h.reopen) throw new Error('harness cannot reopen');
      const s = track(await h.create());
      await write(s, [rec(c1, 'a', 1), rec(c2, 'b', 2)], origin);
      await s.update({ keys: [], cursorPeer: peer }, () => ({
        records: [],
        cursor: { peer, state: { seq: 9, epoch: 'ep000001', filter: 'tasks' } },
        meta: { device: dev },
        result: undefined,
      }));
      const before = await allChanges(s, 100);
      const again = track(await h.reopen(s));
      equal(await allChanges(again, 100), before, 'records');
      equal(await again.lastSeq(), 2, 'lastSeq');
      equal(await again.getCursor(peer), { seq: 9, epoch: 'ep000001', filter: 'tasks' }, 'cursor');
      equal(await again.getMeta('device'), dev, 'meta');
      equal(await write(again, [rec(c1, 'c', 3)]), 3, 'seq continues');
    },
  },
  {
    name: 'a closed store refuses work with CLOSED',
    async run(h, track) {
      const s = track(await h.create());
      await s.close();
      await s.close(); // idempotent
      await rejects(() => s.get(c1, id('a')), 'CLOSED', 'get');
      await rejects(() => write(s, [rec(c1, 'a', 1)]), 'CLOSED', 'update');
    },
  },
];
