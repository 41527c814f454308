import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeStamp, type Stamp } from '../../shared/hlc.js';
import { asCollectionName, asDeviceId, asRecordId } from '../../shared/ids.js';
import type { RecordState } from '../../shared/record.js';
import { joinRecord, localDelete, localPatch, localPut, visibleValue } from '../../peer/merge.js';

const c = asCollectionName('tasks');
const i = asRecordId('t1');
const A = asDeviceId('devA1');
const B = asDeviceId('devB1');
const st = (wall: number, dev = A): Stamp => encodeStamp(wall, 0, dev);

function join(x: RecordState | undefined, y: RecordState): RecordState {
  return joinRecord(x, y).state;
}

describe('local writes', () => {
  it('put replaces the whole record; patch changes some fields; delete leaves a tombstone', () => {
    const r1 = localPut(undefined, c, i, { title: 'a', done: false }, st(1));
    expect(visibleValue(r1)).toEqual({ title: 'a', done: false });
    const r2 = localPatch(r1, { done: true }, st(2));
    expect(visibleValue(r2)).toEqual({ title: 'a', done: true });
    expect(r2.f.done).toEqual({ s: st(2), p: st(1), v: true });
    const r3 = localPut(r2, c, i, { title: 'b' }, st(3));
    expect(visibleValue(r3)).toEqual({ title: 'b' });
    expect(r3.f.done).toBeUndefined(); // a put leaves no marker per removed field...
    expect(r3.d).toBe(st(3)); // ...it prunes everything older than itself
    expect(r3.f.title).toEqual({ s: st(3), p: st(1), v: 'b' });
    const r4 = localPatch(r3, { title: undefined, n: 1 }, st(4));
    expect(visibleValue(r4)).toEqual({ n: 1 });
    const r5 = localDelete(r4, st(5));
    expect(visibleValue(r5)).toBeNull();
    expect(r5.d).toBe(st(5));
    expect(r5.f).toEqual({});
    const r6 = localPut(r5, c, i, { again: true }, st(6));
    expect(visibleValue(r6)).toEqual({ again: true });
  });

  it('field names like toString are ordinary fields', () => {
    const r = localPut(undefined, c, i, { toString: 1, hasOwnProperty: 2 }, st(1));
    expect(visibleValue(r)).toEqual({ toString: 1, hasOwnProperty: 2 });
    expect(visibleValue(localPatch(r, { toString: 3 }, st(2)))).toEqual({
      toString: 3,
      hasOwnProperty: 2,
    });
  });
});

describe('joining states', () => {
  it('concurrent edits of different fields both survive', () => {
    const base = localPut(undefined, c, i, { title: 'x', done: false }, st(1));
    const onA = localPatch(base, { title: 'y' }, st(2, A));
    const onB = localPatch(base, { done: true }, st(3, B));
    expect(visibleValue(join(onA, onB))).toEqual({ title: 'y', done: true });
    expect(visibleValue(join(onB, onA))).toEqual({ title: 'y', done: true });
  });

  it('same field: the later stamp wins, the loser is reported as a conflict', () => {
    const base = localPut(undefined, c, i, { title: 'x' }, st(1));
    const onA = localPatch(base, { title: 'from A' }, st(2, A));
    const onB = localPatch(base, { title: 'from B' }, st(3, B));
    const atA = joinRecord(onA, onB);
    expect(visibleValue(atA.state)).toEqual({ title: 'from B' });
    expect(atA.conflicts).toEqual([{ field: 'title', winner: onB.f.title, loser: onA.f.title }]);
    const atB = joinRecord(onB, onA);
    expect(visibleValue(atB.state)).toEqual({ title: 'from B' });
    expect(atB.conflicts).toHaveLength(1);
    expect(atB.changed).toBe(false);
  });

  it('a sequential overwrite is not a conflict', () => {
    const base = localPut(undefined, c, i, { title: 'x' }, st(1));
    const later = localPatch(base, { title: 'y' }, st(2, B));
    const r = joinRecord(base, later);
    expect(r.conflicts).toEqual([]);
    expect(r.sameAsIncoming).toBe(true);
    // Several sequential writes folded into one state: still no conflict.
    const latest = localPatch(later, { title: 'z' }, st(3, B));
    expect(joinRecord(base, latest).conflicts).toEqual([]);
  });

  it('a put replaces the whole record: a concurrent older patch of another field is gone', () => {
    const base = localPut(undefined, c, i, { title: 'x' }, st(1));
    const patched = localPatch(base, { extra: 1 }, st(2, B));
    const replaced = localPut(base, c, i, { title: 'y' }, st(3, A));
    expect(visibleValue(join(patched, replaced))).toEqual({ title: 'y' });
    expect(visibleValue(join(replaced, patched))).toEqual({ title: 'y' });
    // A patch stamped after the put still applies on top of it.
    const later = localPatch(base, { extra: 2 }, st(4, B));
    expect(visibleValue(join(replaced, later))).toEqual({ title: 'y', extra: 2 });
  });

  it('repeated puts keep a record small (no marker per removed field)', () => {
    let r: RecordState | undefined;
    for (let k = 0; k < 2000; k++) r = localPut(r, c, i, { [`k${k}`]: k }, st(k + 1));
    expect(Object.keys(r!.f)).toEqual(['k1999']);
  });

  it('delete vs concurrent edit: the later stamp decides', () => {
    const base = localPut(undefined, c, i, { title: 'x' }, st(1));
    const deleted = localDelete(base, st(5, A));
    const editedBefore = localPatch(base, { title: 'y' }, st(4, B));
    const editedAfter = localPatch(base, { title: 'z' }, st(6, B));
    expect(visibleValue(join(deleted, editedBefore))).toBeNull();
    expect(visibleValue(join(editedBefore, deleted))).toBeNull();
    expect(visibleValue(join(deleted, editedAfter))).toEqual({ title: 'z' });
    expect(visibleValue(join(editedAfter, deleted))).toEqual({ title: 'z' });
  });

  it('reports changed and sameAsIncoming exactly', () => {
    const base = localPut(undefined, c, i, { a: 1 }, st(1));
    expect(joinRecord(undefined, base)).toMatchObject({ changed: true, sameAsIncoming: true });
    expect(joinRecord(base, base)).toMatchObject({ changed: false, sameAsIncoming: true });
    const x = localPatch(base, { a: 2 }, st(2, A));
    const y = localPatch(base, { b: 3 }, st(3, B));
    expect(joinRecord(x, y)).toMatchObject({ changed: true, sameAsIncoming: false });
    expect(joinRecord(localDelete(base, st(4)), base)).toMatchObject({
      changed: false,
      sameAsIncoming: false,
    });
  });

  it('equal stamps with different content resolve the same way on both sides', () => {
    const x: RecordState = { c, i, a: st(1), d: null, f: { t: { s: st(2), v: 'x' } } };
    const y: RecordState = { c, i, a: st(1), d: null, f: { t: { s: st(2), v: 'y' } } };
    expect(join(x, y)).toEqual(join(y, x));
  });
});

// Random states built from random operation histories, for the lattice laws.
const stampArb = fc
  .tuple(
    fc.integer({ min: 1, max: 20 }),
    fc.integer({ min: 0, max: 2 }),
    fc.constantFrom(A, B, asDeviceId('devC1')),
  )
  .map(([w, n, d]) => encodeStamp(w, n, d));
const valueArb = fc.oneof(
  fc.integer({ min: 0, max: 3 }),
  fc.constantFrom('x', 'y'),
  fc.constant(null),
);
const opArb = fc.oneof(
  fc.record({
    kind: fc.constant('put' as const),
    s: stampArb,
    v: fc.dictionary(fc.constantFrom('f1', 'f2', 'f3'), valueArb),
  }),
  fc.record({
    kind: fc.constant('patch' as const),
    s: stampArb,
    v: fc.dictionary(fc.constantFrom('f1', 'f2', 'f3'), valueArb),
  }),
  fc.record({ kind: fc.constant('delete' as const), s: stampArb }),
);
const stateArb = fc.array(opArb, { minLength: 1, maxLength: 6 }).map((ops) => {
  let r: RecordState | undefined;
  for (const op of ops) {
    // Replicas only ever hold joins of such histories; build one by joining each op's result.
    const next =
      op.kind === 'put' || !r
        ? localPut(r, c, i, op.kind === 'delete' ? {} : op.v, op.s)
        : op.kind === 'patch'
          ? localPatch(r, op.v, op.s)
          : localDelete(r, op.s);
    r = r ? join(r, next) : next;
  }
  return r!;
});

describe('join is a semilattice (fast-check)', () => {
  it('commutative, associative, idempotent', () => {
    fc.assert(
      fc.property(stateArb, stateArb, stateArb, (x, y, z) => {
        expect(join(x, y)).toEqual(join(y, x));
        expect(join(join(x, y), z)).toEqual(join(x, join(y, z)));
        expect(join(x, x)).toEqual(x);
        expect(joinRecord(join(x, y), x).changed).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});
