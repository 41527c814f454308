import { MeshsyncError } from './errors.js';

/**
 * A tiny validating schema: a function that returns the value typed, or throws `BAD_MESSAGE`
 * naming the path of the first bad field. Unknown object keys are refused, never ignored, so
 * nothing unchecked reaches the engine. Used on every message that comes off the wire.
 */
export type Schema<T> = (value: unknown, path: string) => T;
export type Infer<S> = S extends Schema<infer T> ? T : never;

export function fail(path: string, expected: string, value: unknown): never {
  const got = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  throw new MeshsyncError('BAD_MESSAGE', `${path || '<root>'}: expected ${expected}, got ${got}`, {
    details: { path, expected },
  });
}

export function str(opts: { min?: number; max: number; pattern?: RegExp }): Schema<string> {
  const min = opts.min ?? 0;
  return (v, path) => {
    if (typeof v !== 'string') fail(path, 'string', v);
    if (v.length < min || v.length > opts.max) fail(path, `string of ${min}-${opts.max} chars`, v);
    if (opts.pattern && !opts.pattern.test(v)) fail(path, `string matching ${opts.pattern}`, v);
    return v;
  };
}

/** A string accepted only by a type guard (branded ids, stamps). */
export function guard<T>(name: string, isT: (v: unknown) => v is T): Schema<T> {
  return (v, path) => (isT(v) ? v : fail(path, name, v));
}

export function int(opts: { min: number; max: number }): Schema<number> {
  return (v, path) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < opts.min || v > opts.max) {
      fail(path, `integer in [${opts.min}, ${opts.max}]`, v);
    }
    return v;
  };
}

export const bool: Schema<boolean> = (v, path) =>
  typeof v === 'boolean' ? v : fail(path, 'boolean', v);

export function literal<const T extends string | number>(expected: T): Schema<T> {
  return (v, path) => (v === expected ? (v as T) : fail(path, JSON.stringify(expected), v));
}

export function nullable<T>(inner: Schema<T>): Schema<T | null> {
  return (v, path) => (v === null ? null : inner(v, path));
}

export function arr<T>(item: Schema<T>, opts: { min?: number; max: number }): Schema<T[]> {
  const min = opts.min ?? 0;
  return (v, path) => {
    if (!Array.isArray(v)) fail(path, 'array', v);
    if (v.length < min || v.length > opts.max) fail(path, `array of ${min}-${opts.max} items`, v);
    const out = new Array<T>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = item(v[i], `${path}[${i}]`);
    return out;
  };
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

type Shape = Record<string, Schema<unknown>>;
type ObjOf<R extends Shape, O extends Shape> = { [K in keyof R]: Infer<R[K]> } & {
  [K in keyof O]?: Infer<O[K]>;
};

/** An object with exactly the `required` keys and any of the `optional` ones; nothing else. */
export function obj<R extends Shape, O extends Shape = Record<never, never>>(
  required: R,
  optional?: O,
): Schema<ObjOf<R, O>> {
  const req = Object.entries(required);
  const opt = Object.entries(optional ?? {});
  const known = new Set([...req.map(([k]) => k), ...opt.map(([k]) => k)]);
  return (v, path) => {
    if (!isPlainObject(v)) fail(path, 'object', v);
    for (const key of Object.keys(v)) {
      if (!known.has(key)) fail(`${path}.${key}`, 'no such field', v[key]);
    }
    const out: Record<string, unknown> = {};
    for (const [key, schema] of req) {
      if (!Object.hasOwn(v, key)) fail(`${path}.${key}`, 'a value (required)', undefined);
      out[key] = schema(v[key], `${path}.${key}`);
    }
    for (const [key, schema] of opt) {
      if (Object.hasOwn(v, key) && v[key] !== undefined)
        out[key] = schema(v[key], `${path}.${key}`);
    }
    return out as ObjOf<R, O>;
  };
}
