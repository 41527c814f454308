import { isStamp, type Stamp } from '../hlc.js';
import { isCollectionName, isFieldName, isRecordId, type CollectionName } from '../ids.js';
import { checkJsonValue, type JsonValue } from '../json.js';
import { LIMITS } from '../limits.js';
import type { FieldState, RecordState } from '../record.js';
import { fail, isPlainObject, type Schema } from '../schema.js';

/**
 * The wire form of a row (PROTOCOL.md, "Rows"): `{c, i, a, d, f}` where each field is
 *   [v]          value v, written at stamp `a` (the record's last put/patch), nothing replaced
 *   [v, s]       value v written at stamp s
 *   [v, s, p]    value v written at s, replacing the value written at p
 *   {"s", "p"?}  the field was removed at s (replacing p)
 * Most rows carry one stamp, so a row is little bigger than its JSON value.
 */
export type WireField =
  [JsonValue] | [JsonValue, Stamp] | [JsonValue, Stamp, Stamp] | { s: Stamp; p?: Stamp };

function wireField(field: FieldState, a: Stamp | null): WireField {
  if (field.v === undefined)
    return field.p === undefined ? { s: field.s } : { s: field.s, p: field.p };
  if (field.p !== undefined) return [field.v, field.s, field.p];
  return field.s === a ? [field.v] : [field.v, field.s];
}

/** A record's fields in wire form (relative to its stamp `a`). */
export function wireFields(state: RecordState): Record<string, WireField> {
  const f: Record<string, WireField> = {};
  for (const name of Object.keys(state.f)) f[name] = wireField(state.f[name]!, state.a);
  return f;
}

/** Serialises a record state as a wire row (JSON text). */
export function encodeRow(state: RecordState): string {
  return JSON.stringify({ c: state.c, i: state.i, a: state.a, d: state.d, f: wireFields(state) });
}

/**
 * The same text as `encodeRow`, from a row whose fields are already wire JSON (a store that keeps
 * them so can send pages without decoding and re-encoding every record).
 */
export function rowJsonFrom(
  c: string,
  i: string,
  a: Stamp | null,
  d: Stamp | null,
  fieldsJson: string,
): string {
  // Stamps are plain ASCII letters, digits, '_' and '-': no escaping needed.
  return `{"c":${JSON.stringify(c)},"i":${JSON.stringify(i)},"a":${a === null ? 'null' : `"${a}"`},"d":${d === null ? 'null' : `"${d}"`},"f":${fieldsJson}}`;
}

/** Fields from wire form, for data this process wrote itself (not validated: use rowSchema for input). */
export function fieldsFromWire(
  wire: Record<string, WireField>,
  a: Stamp | null,
): Record<string, FieldState> {
  const f: Record<string, FieldState> = {};
  for (const name of Object.keys(wire)) {
    const w = wire[name]!;
    if (!Array.isArray(w)) f[name] = w.p === undefined ? { s: w.s } : { s: w.s, p: w.p };
    else if (w.length === 1) f[name] = { s: a!, v: w[0] };
    else if (w.length === 2) f[name] = { s: w[1], v: w[0] };
    else f[name] = { s: w[1], p: w[2], v: w[0] };
  }
  return f;
}

/** Field names already found valid: rows repeat the same few names. */
const knownNames = new Set<string>();
/** The last collection name found valid: pages mostly hold one collection. */
let knownCollection: string | undefined;

/** The path of row `index` of `base` (or `base` itself when `index` is -1). */
const rowPath = (base: string, index: number): string => (index < 0 ? base : `${base}[${index}]`);

/**
 * Where a value sits, as the pieces of its path: paths are only built for an error, since a
 * page holds thousands of rows.
 */
interface At {
  base: string;
  index: number;
}

/** Fails at `rowPath + suffix`. */
function failAt(at: At, suffix: string, expected: string, value: unknown): never {
  return fail(rowPath(at.base, at.index) + suffix, expected, value);
}

function checkFieldName(name: string, at: At): void {
  if (knownNames.has(name)) return;
  if (!isFieldName(name)) failAt(at, `.f.${name.slice(0, 40)}`, 'a valid field name', name);
  if (knownNames.size < 4096) knownNames.add(name);
}

function stamp(v: unknown, at: At, suffix: string): Stamp {
  return isStamp(v) ? v : failAt(at, suffix, 'a stamp', v);
}

/** A value inside a field: scalars inline, anything else through the full check. */
function fieldValue(value: unknown, at: At, name: string): void {
  if (typeof value === 'string' || typeof value === 'boolean' || value === null) return;
  if (typeof value === 'number' && Number.isFinite(value)) return;
  checkJsonValue(value, `${rowPath(at.base, at.index)}.f.${name}[0]`, 'BAD_MESSAGE');
}

function fieldState(v: unknown, a: Stamp | null, at: At, name: string): FieldState {
  if (Array.isArray(v)) {
    const value: unknown = v[0];
    switch (v.length) {
      case 1:
        if (a === null) failAt(at, `.f.${name}`, '[v] only in a row with a stamp `a`', v);
        fieldValue(value, at, name);
        return { s: a, v: value as JsonValue };
      case 2:
        fieldValue(value, at, name);
        // Written at the row's stamp `a`: that stamp is checked already.
        return { s: v[1] === a ? a! : stamp(v[1], at, `.f.${name}[1]`), v: value as JsonValue };
      case 3: {
        fieldValue(value, at, name);
        const s = v[1] === a ? a! : stamp(v[1], at, `.f.${name}[1]`);
        const p = stamp(v[2], at, `.f.${name}[2]`);
        if (p >= s) failAt(at, `.f.${name}[2]`, 'a stamp older than the write (p < s)', p);
        return { s, p, v: value as JsonValue };
      }
      default:
        return failAt(at, `.f.${name}`, 'a field: [v], [v, s] or [v, s, p]', v);
    }
  }
  if (!isPlainObject(v)) return failAt(at, `.f.${name}`, 'a field: an array or {s, p?}', v);
  for (const key in v)
    if (key !== 's' && key !== 'p') failAt(at, `.f.${name}.${key}`, 'no such field', v[key]);
  const s = stamp(v.s, at, `.f.${name}.s`);
  if (v.p === undefined) return { s };
  const p = stamp(v.p, at, `.f.${name}.p`);
  if (p >= s) failAt(at, `.f.${name}.p`, 'a stamp older than the write (p < s)', p);
  return { s, p };
}

/**
 * Validates wire row `at` field by field and returns its record state. With `reuse`, the row
 * (fresh from `JSON.parse`, nobody else's) becomes the state itself: a page holds thousands.
 */
function decodeRow(v: unknown, at: At, reuse: boolean): RecordState {
  if (!isPlainObject(v)) failAt(at, '', 'object', v);
  for (const key in v) {
    if (key !== 'c' && key !== 'i' && key !== 'a' && key !== 'd' && key !== 'f') {
      failAt(at, `.${key}`, 'no such field', v[key]);
    }
  }
  const c = v.c;
  if (typeof c !== 'string' || c !== knownCollection) {
    if (!isCollectionName(c)) failAt(at, '.c', 'a collection name', c);
    knownCollection = c;
  }
  if (!isRecordId(v.i)) failAt(at, '.i', 'a record id', v.i);
  const a = v.a === null ? null : stamp(v.a, at, '.a');
  // A put sets `a` and `d` to the same stamp.
  const d = v.d === null ? null : v.d === a ? a : stamp(v.d, at, '.d');
  const raw = v.f;
  if (!isPlainObject(raw)) failAt(at, '.f', 'object', raw);
  const f: Record<string, unknown> = reuse ? raw : {};
  let count = 0;
  for (const name in raw) {
    if (++count > LIMITS.maxFields) failAt(at, '.f', `at most ${LIMITS.maxFields} fields`, raw);
    checkFieldName(name, at);
    f[name] = fieldState(raw[name], a, at, name);
  }
  if (!reuse) return { c: c as CollectionName, i: v.i, a, d, f: f as Record<string, FieldState> };
  v.d = d; // `a` itself when equal: one string kept, not two
  return v as unknown as RecordState;
}

/** Validates one wire row field by field and returns its record state. */
export const rowSchema: Schema<RecordState> = (v, path) =>
  decodeRow(v, { base: path, index: -1 }, false);

/**
 * Validates the rows of a page (at most `max`), each field by field. The rows are turned into
 * their record states in place: only for values fresh from `JSON.parse`.
 */
export function rowsSchema(max: number): Schema<RecordState[]> {
  return (v, path) => {
    if (!Array.isArray(v)) fail(path, 'array', v);
    if (v.length > max) fail(path, `array of 0-${max} items`, v);
    const out = new Array<RecordState>(v.length);
    const at: At = { base: path, index: 0 };
    for (let i = 0; i < v.length; i++) {
      at.index = i;
      out[i] = decodeRow(v[i], at, true);
    }
    return out;
  };
}
