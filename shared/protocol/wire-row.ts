import { isStamp, type Stamp } from '../hlc.js';
import { isCollectionName, isFieldName, isRecordId } from '../ids.js';
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

function checkFieldName(name: string, path: string): void {
  if (knownNames.has(name)) return;
  if (!isFieldName(name)) fail(`${path}.${name.slice(0, 40)}`, 'a valid field name', name);
  if (knownNames.size < 4096) knownNames.add(name);
}

function stamp(v: unknown, path: string): Stamp {
  return isStamp(v) ? v : fail(path, 'a stamp', v);
}

function fieldState(v: unknown, a: Stamp | null, path: string): FieldState {
  if (Array.isArray(v)) {
    const value: unknown = v[0];
    switch (v.length) {
      case 1:
        if (a === null) fail(path, '[v] only in a row with a stamp `a`', v);
        checkJsonValue(value, `${path}[0]`, 'BAD_MESSAGE');
        return { s: a, v: value };
      case 2:
        checkJsonValue(value, `${path}[0]`, 'BAD_MESSAGE');
        return { s: stamp(v[1], `${path}[1]`), v: value };
      case 3: {
        checkJsonValue(value, `${path}[0]`, 'BAD_MESSAGE');
        const s = stamp(v[1], `${path}[1]`);
        const p = stamp(v[2], `${path}[2]`);
        if (p >= s) fail(`${path}[2]`, 'a stamp older than the write (p < s)', p);
        return { s, p, v: value };
      }
      default:
        return fail(path, 'a field: [v], [v, s] or [v, s, p]', v);
    }
  }
  if (!isPlainObject(v)) return fail(path, 'a field: an array or {s, p?}', v);
  for (const key in v)
    if (key !== 's' && key !== 'p') fail(`${path}.${key}`, 'no such field', v[key]);
  const s = stamp(v.s, `${path}.s`);
  if (v.p === undefined) return { s };
  const p = stamp(v.p, `${path}.p`);
  if (p >= s) fail(`${path}.p`, 'a stamp older than the write (p < s)', p);
  return { s, p };
}

/** Validates one wire row field by field and returns its record state. */
export const rowSchema: Schema<RecordState> = (v, path) => {
  if (!isPlainObject(v)) fail(path, 'object', v);
  for (const key in v) {
    if (key !== 'c' && key !== 'i' && key !== 'a' && key !== 'd' && key !== 'f') {
      fail(`${path}.${key}`, 'no such field', v[key]);
    }
  }
  if (!isCollectionName(v.c)) fail(`${path}.c`, 'a collection name', v.c);
  if (!isRecordId(v.i)) fail(`${path}.i`, 'a record id', v.i);
  const a = v.a === null ? null : stamp(v.a, `${path}.a`);
  const d = v.d === null ? null : stamp(v.d, `${path}.d`);
  const raw = v.f;
  if (!isPlainObject(raw)) fail(`${path}.f`, 'object', raw);
  const f: Record<string, FieldState> = {};
  let count = 0;
  for (const name in raw) {
    if (++count > LIMITS.maxFields) fail(`${path}.f`, `at most ${LIMITS.maxFields} fields`, raw);
    checkFieldName(name, `${path}.f`);
    f[name] = fieldState(raw[name], a, `${path}.f.${name}`);
  }
  return { c: v.c, i: v.i, a, d, f };
};
