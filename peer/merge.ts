import type { Stamp } from '../shared/hlc.js';
import type { CollectionName, RecordId } from '../shared/ids.js';
import { canonicalJson, jsonEqual, type JsonObject, type JsonValue } from '../shared/json.js';
import type { FieldState, RecordState } from '../shared/record.js';

/**
 * Pure merge rules. A record's state is a join-semilattice: per top-level field the write with
 * the greater stamp wins, `a` (last put or patch) and `d` (last put or delete: everything older
 * is gone) take the greater stamp, and fields written before `d` are pruned. Joining is
 * commutative, associative and idempotent, so replicas that have seen the same writes hold the
 * same state, whatever the order, duplication or path of delivery.
 *
 * A put replaces the record: it sets `a` and `d` to its stamp and writes its fields at that
 * stamp. A delete sets `d` alone. A patch sets `a` and the fields it names. So a record is
 * visible when `a >= d`, and a field when its stamp is `>= d`.
 */

/** A same-field conflict found while joining: `loser` was written without seeing `winner`. */
export interface FieldConflict {
  field: string;
  winner: FieldState;
  loser: FieldState;
}

export interface JoinResult {
  state: RecordState;
  /** The joined state differs from the local one (it must be stored with a new seq). */
  changed: boolean;
  /** The joined state is exactly the incoming one (its sender needs nothing back). */
  sameAsIncoming: boolean;
  conflicts: FieldConflict[];
}

function maxStamp(x: Stamp | null, y: Stamp | null): Stamp | null {
  if (x === null) return y;
  if (y === null) return x;
  return x >= y ? x : y;
}

/** A field written at `s` survives a put or delete stamped `d`. */
function survives(s: Stamp, d: Stamp | null): boolean {
  return d === null || s >= d;
}

function tieKey(f: FieldState): string {
  return `${f.p ?? ''}\u0000${f.v === undefined ? '' : `=${canonicalJson(f.v)}`}`;
}

/** The winning field state; equal stamps with different content get a deterministic order. */
function pickField(local: FieldState, incoming: FieldState): FieldState {
  if (incoming.s > local.s) return incoming;
  if (incoming.s < local.s) return local;
  if (incoming.p === local.p && jsonEqual(incoming.v, local.v)) return local;
  return tieKey(incoming) > tieKey(local) ? incoming : local;
}

/** Two writes conflict when the winner's writer had not seen the loser's value. */
function detectConflict(
  field: string,
  winner: FieldState,
  loser: FieldState,
): FieldConflict | undefined {
  if (winner.s === loser.s || jsonEqual(winner.v, loser.v)) return undefined;
  if (winner.p !== undefined && loser.s <= winner.p) return undefined;
  return { field, winner, loser };
}

export function isVisible(state: RecordState): boolean {
  return state.a !== null && (state.d === null || state.a >= state.d);
}

/** The value the application sees, or null for a deleted or never-created record. */
export function visibleValue(state: RecordState): JsonObject | null {
  if (!isVisible(state)) return null;
  const out: JsonObject = {};
  for (const name of Object.keys(state.f)) {
    const field = state.f[name]!;
    if (field.v !== undefined && survives(field.s, state.d)) out[name] = field.v;
  }
  return out;
}

function isPruned(state: RecordState): boolean {
  if (state.d === null) return true;
  for (const name in state.f) if (state.f[name]!.s < state.d) return false;
  return true;
}

/** Joins an incoming record state into the local one (which may not exist yet). */
export function joinRecord(local: RecordState | undefined, incoming: RecordState): JoinResult {
  // A record we have never seen, already pruned: the incoming state as it is.
  if (local === undefined && isPruned(incoming)) {
    return { state: incoming, changed: true, sameAsIncoming: true, conflicts: [] };
  }
  const a = maxStamp(local?.a ?? null, incoming.a);
  const d = maxStamp(local?.d ?? null, incoming.d);
  const localFields = local?.f ?? {};
  const f: Record<string, FieldState> = {};
  const conflicts: FieldConflict[] = [];
  let changed = local === undefined || a !== local.a || d !== local.d;
  let sameAsIncoming = a === incoming.a && d === incoming.d;

  for (const name of Object.keys(incoming.f)) {
    const inc = incoming.f[name]!;
    const loc = ownField(localFields, name);
    let winner = inc;
    if (loc !== undefined) {
      winner = pickField(loc, inc);
      const conflict = detectConflict(name, winner, winner === loc ? inc : loc);
      if (conflict && survives(conflict.loser.s, d)) conflicts.push(conflict);
    }
    const kept = survives(winner.s, d);
    if (kept) f[name] = winner;
    if (loc === undefined ? kept : winner !== loc || !kept) changed = true;
    if (kept !== survives(inc.s, d) || (kept && winner.s !== inc.s)) sameAsIncoming = false;
  }
  for (const name of Object.keys(localFields)) {
    if (Object.hasOwn(incoming.f, name)) continue;
    const loc = localFields[name]!;
    if (survives(loc.s, d)) {
      f[name] = loc;
      sameAsIncoming = false;
    } else {
      changed = true; // pruned by a newer put or delete
    }
  }
  return { state: { c: incoming.c, i: incoming.i, a, d, f }, changed, sameAsIncoming, conflicts };
}

/** Local `put`: the record becomes exactly `value`; everything older is gone. */
export function localPut(
  local: RecordState | undefined,
  c: CollectionName,
  i: RecordId,
  value: JsonObject,
  stamp: Stamp,
): RecordState {
  const f: Record<string, FieldState> = {};
  for (const name of Object.keys(value))
    f[name] = write(local && ownField(local.f, name), value[name]!, stamp);
  return { c, i, a: stamp, d: stamp, f };
}

/** Local `patch`: the given fields are set (or removed when `undefined`), others stay. */
export function localPatch(
  local: RecordState,
  changes: Readonly<Record<string, JsonValue | undefined>>,
  stamp: Stamp,
): RecordState {
  const f: Record<string, FieldState> = { ...local.f };
  for (const name of Object.keys(changes)) {
    const value = changes[name];
    const old = ownField(local.f, name);
    if (value === undefined) {
      if (old !== undefined && old.v !== undefined) f[name] = { s: stamp, p: old.s };
    } else {
      f[name] = write(old, value, stamp);
    }
  }
  return { c: local.c, i: local.i, a: stamp, d: local.d, f };
}

/** Local `delete`: a tombstone with its own stamp; all older fields are pruned. */
export function localDelete(local: RecordState, stamp: Stamp): RecordState {
  return { c: local.c, i: local.i, a: local.a, d: stamp, f: {} };
}

function ownField(f: Record<string, FieldState>, name: string): FieldState | undefined {
  return Object.hasOwn(f, name) ? f[name] : undefined;
}

function write(old: FieldState | undefined, v: JsonValue, s: Stamp): FieldState {
  return old === undefined ? { s, v } : { s, p: old.s, v };
}
