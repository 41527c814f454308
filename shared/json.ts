import { MeshsyncError, type ErrorCode } from './errors.js';
import { isPlainObject } from './schema.js';

/** A JSON value as meshsync stores it: what `JSON.parse` can return. */
export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Deepest nesting accepted inside one field value. */
export const MAX_JSON_DEPTH = 32;

/**
 * Checks that `value` is plain JSON (finite numbers, plain objects, no `__proto__` keys, at most
 * `MAX_JSON_DEPTH` deep) without recursion, so a hostile value cannot overflow the stack.
 */
export function checkJsonValue(
  value: unknown,
  path: string,
  code: ErrorCode,
): asserts value is JsonValue {
  // Most field values are scalars: check them without allocating.
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) bad(code, path, 'a finite number');
      return;
    default:
      if (value === null) return;
  }
  // Most structured values are valid: check them without allocating, then walk again for the path.
  if (isJsonWithin(value, 0)) return;
  const stack: Array<[unknown, number, string]> = [[value, 0, path]];
  while (stack.length > 0) {
    const [v, depth, p] = stack.pop()!;
    switch (typeof v) {
      case 'string':
      case 'boolean':
        continue;
      case 'number':
        if (!Number.isFinite(v)) bad(code, p, 'a finite number');
        continue;
      case 'object':
        break;
      default:
        bad(code, p, `JSON (got ${typeof v})`);
    }
    if (v === null) continue;
    if (depth >= MAX_JSON_DEPTH) bad(code, p, `nesting of at most ${MAX_JSON_DEPTH}`);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) stack.push([v[i], depth + 1, `${p}[${i}]`]);
    } else if (isPlainObject(v)) {
      for (const key of Object.keys(v)) {
        if (key === '__proto__') bad(code, `${p}.__proto__`, 'no __proto__ key');
        stack.push([v[key], depth + 1, `${p}.${key}`]);
      }
    } else {
      bad(code, p, 'a plain object or array');
    }
  }
  // Unreachable: the walk refuses everything the quick check refused.
  bad(code, path, 'JSON');
}

/**
 * The same checks as `checkJsonValue` as a yes/no answer, without allocating. Recursive, but no
 * deeper than `MAX_JSON_DEPTH`, so a hostile value cannot overflow the stack here either.
 */
function isJsonWithin(v: unknown, depth: number): boolean {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(v);
    case 'object':
      break;
    default:
      return false;
  }
  if (v === null) return true;
  if (depth >= MAX_JSON_DEPTH) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (!isJsonWithin(v[i], depth + 1)) return false;
    return true;
  }
  if (!isPlainObject(v)) return false;
  for (const key of Object.keys(v)) {
    if (key === '__proto__' || !isJsonWithin(v[key], depth + 1)) return false;
  }
  return true;
}

function bad(code: ErrorCode, path: string, expected: string): never {
  throw new MeshsyncError(code, `${path}: expected ${expected}`, { details: { path } });
}

/** Structural equality of two JSON values (object key order does not matter). */
export function jsonEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k) || !jsonEqual(a[k], b[k])) return false;
  }
  return true;
}

/**
 * JSON text with object keys sorted at every level: equal values (in the sense of `jsonEqual`)
 * give equal text, so it can order values deterministically.
 */
export function canonicalJson(value: JsonValue | undefined): string {
  if (value === undefined) return '';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
}
