import { isStamp } from '../hlc.js';
import { isCollectionName, isDeviceId, isFieldName, isRecordId } from '../ids.js';
import { checkJsonValue } from '../json.js';
import { LIMITS } from '../limits.js';
import type { FieldState, RecordState } from '../record.js';
import {
  arr,
  bool,
  fail,
  guard,
  int,
  isPlainObject,
  nullable,
  obj,
  str,
  type Schema,
} from '../schema.js';
import type { Message, MessageType } from './messages.js';

const seq = int({ min: 0, max: Number.MAX_SAFE_INTEGER });
const reqId = int({ min: 1, max: 0xffffffff });
const stamp = guard('a stamp', isStamp);

const fieldState: Schema<FieldState> = (v, path) => {
  if (!isPlainObject(v)) fail(path, 'object', v);
  for (const key in v) {
    if (key !== 's' && key !== 'p' && key !== 'v') fail(`${path}.${key}`, 'no such field', v[key]);
  }
  const out: FieldState = { s: stamp(v.s, `${path}.s`) };
  if (v.p !== undefined) out.p = stamp(v.p, `${path}.p`);
  if (Object.hasOwn(v, 'v')) {
    checkJsonValue(v.v, `${path}.v`, 'BAD_MESSAGE');
    out.v = v.v;
  }
  return out;
};

const fields: Schema<Record<string, FieldState>> = (v, path) => {
  if (!isPlainObject(v)) fail(path, 'object', v);
  const keys = Object.keys(v);
  if (keys.length > LIMITS.maxFields) fail(path, `at most ${LIMITS.maxFields} fields`, v);
  const out: Record<string, FieldState> = {};
  for (const key of keys) {
    if (!isFieldName(key)) fail(`${path}.${key.slice(0, 40)}`, 'a valid field name', key);
    out[key] = fieldState(v[key], `${path}.${key}`);
  }
  return out;
};

/** One row of a page: the full mergeable state of a record. */
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
  return { c: v.c, i: v.i, a, d, f: fields(v.f, `${path}.f`) };
};

type Body<T extends MessageType> = Omit<Extract<Message, { type: T }>, 'type'>;

/** Field-by-field schema of every message body, keyed by message type. */
export const BODY_SCHEMAS: { [T in MessageType]: Schema<Body<T>> } = {
  hello: obj({
    min: int({ min: 1, max: 0xffff }),
    max: int({ min: 1, max: 0xffff }),
    device: guard('a device id', isDeviceId),
    epoch: str({ min: 8, max: 64, pattern: /^[A-Za-z0-9_-]+$/ }),
    caps: arr(str({ min: 1, max: 32, pattern: /^[a-z0-9:._-]+$/ }), {
      max: LIMITS.maxCapabilities,
    }),
    want: nullable(
      arr(guard('a collection name', isCollectionName), { max: LIMITS.maxWantedCollections }),
    ),
    maxFrame: int({ min: 64 * 1024, max: 0xffffffff }),
  }),
  welcome: obj({ cursor: seq }),
  pull: obj({
    req: reqId,
    after: seq,
    rows: int({ min: 1, max: LIMITS.maxPageRows }),
    bytes: int({ min: 1, max: 0xffffffff }),
  }),
  changes: (v, path) => {
    const body = obj({
      req: reqId,
      push: bool,
      from: seq,
      to: seq,
      head: seq,
      more: bool,
      rows: arr(rowSchema, { max: LIMITS.maxPageRows }),
    })(v, path);
    if (body.to < body.from) fail(`${path}.to`, 'to >= from', body.to);
    if (body.head < body.to) fail(`${path}.head`, 'head >= to', body.head);
    return body;
  },
  ack: obj({ req: reqId, cursor: seq }),
  changed: obj({ head: seq }),
  error: obj({
    req: int({ min: 0, max: 0xffffffff }),
    code: str({ min: 1, max: 64, pattern: /^[A-Z0-9_]+$/ }),
    message: str({ max: LIMITS.maxErrorMessage }),
  }),
  bye: obj({ reason: str({ max: 200 }) }),
};
