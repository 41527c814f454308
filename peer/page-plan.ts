import { MeshsyncError } from '../shared/errors.js';
import type { Stamp } from '../shared/hlc.js';
import type { DeviceId } from '../shared/ids.js';
import {
  originTag,
  recordKey,
  type ConflictEntry,
  type OriginTag,
  type RecordState,
} from '../shared/record.js';
import { joinRecord } from './merge.js';
import type { CursorState, StoreUpdate, UpdateContext } from './store/store-port.js';

/** A page received from a peer, already validated. */
export interface IncomingPage {
  from: number;
  to: number;
  rows: readonly RecordState[];
}

export interface WrittenRecord {
  state: RecordState;
  origin: OriginTag | null;
}

export interface PagePlanResult {
  cursor: number;
  written: WrittenRecord[];
  conflicts: ConflictEntry[];
}

/** The seq of `cursor` if it belongs to this epoch and filter, else 0 (start over). */
export function cursorSeq(cursor: CursorState | undefined, epoch: string, filter: string): number {
  return cursor && cursor.epoch === epoch && cursor.filter === filter ? cursor.seq : 0;
}

/** The newest stamp in a page's rows (for the clock-drift check), or null. */
export function newestStamp(rows: readonly RecordState[]): Stamp | null {
  let newest: Stamp | null = null;
  const newer = (stamp: Stamp | null): void => {
    if (stamp !== null && (newest === null || stamp > newest)) newest = stamp;
  };
  for (const row of rows) {
    newer(row.a);
    newer(row.d);
    for (const name in row.f) newer(row.f[name]!.s);
  }
  return newest;
}

/**
 * The store update for a page from `peer` (store `epoch`), given the records and cursor the
 * store read: a gap is refused (`CURSOR_GAP`), an old page is a no-op, otherwise every row is
 * joined and the cursor advances to `page.to`. Pure apart from `now`.
 */
export function planPage(
  peer: DeviceId,
  epoch: string,
  filter: string,
  page: IncomingPage,
  { record, cursor }: UpdateContext,
  now: number,
): StoreUpdate<PagePlanResult> {
  const current = cursorSeq(cursor, epoch, filter);
  if (page.from > current) {
    throw new MeshsyncError('CURSOR_GAP', `page starts at ${page.from}, cursor is ${current}`, {
      details: { from: page.from, cursor: current },
    });
  }
  if (page.to <= current)
    return { records: [], result: { cursor: current, written: [], conflicts: [] } };
  const from = originTag(peer, epoch);
  // What this page wrote so far, by collection and id (a page may hold a record twice).
  const written = new Map<string, Map<string, WrittenRecord>>();
  // Each record once, where it was first written, with its last state.
  const rows: WrittenRecord[] = [];
  const conflicts: ConflictEntry[] = [];
  for (const row of page.rows) {
    let inCollection = written.get(row.c);
    if (!inCollection) written.set(row.c, (inCollection = new Map<string, WrittenRecord>()));
    const earlier = inCollection.get(row.i);
    const joined = joinRecord(earlier?.state ?? record(row.c, row.i), row);
    if (joined.changed) {
      const origin = joined.sameAsIncoming ? from : null;
      if (earlier) {
        earlier.state = joined.state;
        earlier.origin = origin;
      } else {
        const entry = { state: joined.state, origin };
        inCollection.set(row.i, entry);
        rows.push(entry);
      }
    }
    for (const { field, winner, loser } of joined.conflicts) {
      const conflictKey = `${recordKey(row.c, row.i)}\u0000${field}\u0000${loser.s}`;
      conflicts.push({
        key: conflictKey,
        collection: row.c,
        id: row.i,
        field,
        winner,
        loser,
        at: now,
      });
    }
  }
  return {
    records: rows,
    cursor: { peer, state: { seq: page.to, epoch, filter } },
    conflicts,
    result: { cursor: page.to, written: rows, conflicts },
  };
}
