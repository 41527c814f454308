import { isCollectionName, isDeviceId } from '../ids.js';
import { LIMITS } from '../limits.js';
import { arr, bool, fail, guard, int, nullable, obj, str, type Schema } from '../schema.js';
import type { Message, MessageType } from './messages.js';
import { rowsSchema } from './wire-row.js';

/** What a capability name looks like. */
export const CAPABILITY_PATTERN = /^[a-z0-9:._-]{1,32}$/;

const seq = int({ min: 0, max: Number.MAX_SAFE_INTEGER });
const reqId = int({ min: 1, max: 0xffffffff });

type Body<T extends MessageType> = Omit<Extract<Message, { type: T }>, 'type'>;

/**
 * Field-by-field schema of every message body, keyed by message type. For bodies fresh from
 * `JSON.parse` only: a page's rows are turned into record states in place.
 */
export const BODY_SCHEMAS: { [T in MessageType]: Schema<Body<T>> } = {
  hello: (v, path) => {
    const body = obj({
      min: int({ min: 1, max: 0xffff }),
      max: int({ min: 1, max: 0xffff }),
      device: guard('a device id', isDeviceId),
      epoch: str({ min: 8, max: 64, pattern: /^[A-Za-z0-9_-]+$/ }),
      caps: arr(str({ min: 1, max: 32, pattern: CAPABILITY_PATTERN }), {
        max: LIMITS.maxCapabilities,
      }),
      want: nullable(
        arr(guard('a collection name', isCollectionName), { max: LIMITS.maxWantedCollections }),
      ),
      maxFrame: int({ min: 64 * 1024, max: 0xffffffff }),
    })(v, path);
    if (body.min > body.max) fail(`${path}.min`, 'min <= max', body.min);
    return body;
  },
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
      rows: rowsSchema(LIMITS.maxPageRows),
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
