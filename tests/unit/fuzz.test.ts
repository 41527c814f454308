import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Peer } from '../../peer/peer.js';
import type { CursorState } from '../../peer/store/store-port.js';
import type { SyncSession } from '../../peer/sync/session.js';
import type { SyncOptions } from '../../peer/sync/session-types.js';
import { createMemoryTransportPair } from '../../peer/transport/memory-transport.js';
import type { Transport } from '../../peer/transport/transport-port.js';
import { ERROR_CODES, MeshsyncError, type ErrorCode } from '../../shared/errors.js';
import { MAX_COUNTER, MAX_WALL, encodeStamp } from '../../shared/hlc.js';
import { isFieldName, isRecordId, type DeviceId } from '../../shared/ids.js';
import { jsonEqual, type JsonValue } from '../../shared/json.js';
import {
  HEADER_BYTES,
  decodeFrame,
  encodeChangesFrame,
  encodeFrame,
  encodeMessage,
} from '../../shared/protocol/codec.js';
import { MESSAGE_TYPES, type Message } from '../../shared/protocol/messages.js';
import { encodeRow } from '../../shared/protocol/wire-row.js';
import { memoryPeer } from '../support/peers.js';

/*
 * Fuzzing the wire (10,000 cases per test; MESHSYNC_FUZZ_RUNS=100000 for a longer hunt).
 *
 * (a) 10,000 frames into decodeFrame: random bytes, valid frames with bit flips, truncations,
 *     byte edits and splices, random JSON under valid headers, and valid messages bent out of
 *     shape (a field replaced, removed or added; a number rewritten as 1e400, -0, 1.5 ...). Each
 *     frame either decodes to exactly its body, which re-encodes and decodes to the same message,
 *     or is refused with a MeshsyncError carrying one of the five decode codes. Nothing else.
 *
 * (b) 10,000 frames into a live session of a real peer that holds data, sent raw from the other
 *     end of a memory transport pair. The frames are ones that must not change the peer's store:
 *       - undecodable frames (garbage, and valid frames mutated until the decoder refuses them);
 *       - requests that only read: pull, changed, welcome, ack, error, a second hello (a pull
 *         or welcome whose cursor is past the target's head is not sent: it means "your store
 *         was restored from a backup" and rotates the target's epoch);
 *       - pages (pushed, or answering the peer's own pull) that must be refused or are no-ops:
 *           gap      from > the peer's cursor for us (answered with an ack of the real cursor),
 *           old      to <= the cursor (a no-op, acknowledged),
 *           unwanted a row in a collection the peer did not ask for (UNWANTED_COLLECTION),
 *           drift    a stamp more than maxDriftMs ahead of the peer's clock (CLOCK_DRIFT),
 *           misfit   a pull answer whose `from` is not the `after` asked for (BAD_MESSAGE);
 *       - 10% of cases go to a brand-new session before any handshake, where nothing may write.
 *     Mutations can turn a refused page into an applicable one (e.g. a bit flip in `from`), so an
 *     oracle decodes every frame first and does not send the few that the engine must apply
 *     (counted as `skipped`). After each frame a barrier (a pull with a unique `req`) proves the
 *     session has handled it; then the store must be exactly as before (records, lastSeq, every
 *     cursor, conflicts, HLC), every error event must be a MeshsyncError with an expected code,
 *     every frame the peer sent must decode, and every ack must carry the real cursor.
 */

// ---- shared generators -------------------------------------------------------------------------

/** Encodes like the engine: pages with wire-form rows (encodeRow), the rest with encodeMessage. */
function encodeWire(message: Message): Uint8Array {
  if (message.type !== 'changes') return encodeMessage(message);
  const { req, push, from, to, head, more, rows } = message;
  return encodeChangesFrame({ req, push, from, to, head, more }, rows.map(encodeRow));
}

const bodyOf = (frame: Uint8Array): string =>
  new TextDecoder().decode(frame.subarray(HEADER_BYTES));

const hex = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

/** Cases per fuzz test. */
const RUNS = Number(process.env.MESHSYNC_FUZZ_RUNS ?? 10_000);

const NOW = 1_700_000_000_000;
const DRIFT = 300_000; // Hlc default maxDriftMs
const TARGET = 'target1';
const FUZZ = 'fuzz1';
const FUZZ_EPOCH = 'fuzzepoch0001';
const WANT = ['notes', 'tasks'];
const DEVICES = ['devA1', FUZZ, 'fuzz2', 'other1', TARGET];

const deviceArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...DEVICES) },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{4,64}$/) },
);

const stampArb = (wall: fc.Arbitrary<number>): fc.Arbitrary<string> =>
  fc
    .tuple(wall, fc.integer({ min: 0, max: MAX_COUNTER }), deviceArb)
    .map(([w, c, d]) => encodeStamp(w, c, d as DeviceId));
const anyStamp = stampArb(fc.integer({ min: 0, max: MAX_WALL }));
/** Stamps the target accepts: a day old up to exactly the drift limit. */
const nearStamp = stampArb(fc.integer({ min: NOW - 86_400_000, max: NOW + DRIFT }));
/** Stamps the target refuses with CLOCK_DRIFT. */
const farStamp = stampArb(fc.integer({ min: NOW + DRIFT + 1, max: MAX_WALL }));

const collectionArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('tasks', 'notes', 'secret') },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/) },
);
const recordIdArb = fc
  .oneof(
    { weight: 4, arbitrary: fc.constantFrom('t0', 't1', 't2', 't3', 'n0', 'n1', 's0', 'f1') },
    { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 30, unit: 'binary' }) },
  )
  .filter(isRecordId);
const fieldNameArb = fc
  .oneof(
    { weight: 4, arbitrary: fc.constantFrom('title', 'done', 'n', 'tags', 'toString') },
    { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 20, unit: 'binary' }) },
  )
  .filter(isFieldName);
const valueArb = fc.jsonValue({ maxDepth: 3 });

type Row = {
  c: string;
  i: string;
  a: string | null;
  d: string | null;
  f: Record<string, { s: string; p?: string; v?: unknown }>;
};

function rowArb(collection: fc.Arbitrary<string>, stamp: fc.Arbitrary<string>): fc.Arbitrary<Row> {
  const field = fc.record(
    { s: stamp, p: stamp, v: valueArb },
    { requiredKeys: ['s'] },
  ) as fc.Arbitrary<Row['f'][string]>;
  return fc
    .tuple(
      fc.record({
        c: collection,
        i: recordIdArb,
        a: fc.option(stamp, { nil: null }),
        d: fc.option(stamp, { nil: null }),
        f: fc.dictionary(fieldNameArb, field, { maxKeys: 4 }),
      }),
      fc.boolean(),
    )
    .map(([row, byPut]) => {
      // Fields written by the record's last put or patch carry the stamp `a` (wire form [v]).
      if (!byPut || row.a === null) return row;
      const f: Row['f'] = {};
      for (const [name, field] of Object.entries(row.f)) f[name] = { ...field, s: row.a };
      return { ...row, f };
    });
}

const seqArb = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 40 }) },
  { weight: 1, arbitrary: fc.maxSafeNat() },
);
const reqArb = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 20 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 0xffffffff }) },
);

/** Three seqs as from <= to <= head. */
const rangeArb = fc.tuple(seqArb, seqArb, seqArb).map(([x, y, z]): [number, number, number] => {
  const [from, to, head] = [x, y, z].sort((p, q) => p - q);
  return [from!, to!, head!];
});

const helloArb = fc.record({
  type: fc.constant('hello' as const),
  min: fc.integer({ min: 1, max: 3 }),
  max: fc.integer({ min: 1, max: 3 }),
  device: deviceArb,
  epoch: fc.stringMatching(/^[A-Za-z0-9_-]{8,64}$/),
  caps: fc.array(fc.stringMatching(/^[a-z0-9:._-]{1,32}$/), { maxLength: 3 }),
  want: fc.option(fc.array(collectionArb, { maxLength: 4 }), { nil: null }),
  maxFrame: fc.integer({ min: 64 * 1024, max: 0xffffffff }),
});

const errorCodeArb = fc.oneof(
  fc.constantFrom(...ERROR_CODES),
  fc.stringMatching(/^[A-Z0-9_]{1,64}$/),
);

/** Any valid message (for the decoder fuzz). */
const messageArb: fc.Arbitrary<Message> = fc.oneof(
  helloArb,
  fc.record({ type: fc.constant('welcome' as const), cursor: seqArb }),
  fc.record({
    type: fc.constant('pull' as const),
    req: reqArb,
    after: seqArb,
    rows: fc.integer({ min: 1, max: 10_000 }),
    bytes: fc.integer({ min: 1, max: 0xffffffff }),
  }),
  fc
    .tuple(
      reqArb,
      fc.boolean(),
      rangeArb,
      fc.boolean(),
      fc.array(rowArb(collectionArb, anyStamp), { maxLength: 3 }),
    )
    .map(([req, push, [from, to, head], more, rows]) => ({
      type: 'changes' as const,
      req,
      push,
      from,
      to,
      head,
      more,
      rows,
    })),
  fc.record({ type: fc.constant('ack' as const), req: reqArb, cursor: seqArb }),
  fc.record({ type: fc.constant('changed' as const), head: seqArb }),
  fc.record({
    type: fc.constant('error' as const),
    req: fc.integer({ min: 0, max: 0xffffffff }),
    code: errorCodeArb,
    message: fc.string({ maxLength: 40 }),
  }),
  fc.record({ type: fc.constant('bye' as const), reason: fc.string({ maxLength: 40 }) }),
) as fc.Arbitrary<Message>;

// ---- mutations -----------------------------------------------------------------------------------

type Path = Array<string | number>;

function allPaths(value: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((v, i) => allPaths(v, [...prefix, i], out));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) allPaths(v, [...prefix, k], out);
  }
  return out;
}

type JsonEdit =
  | { op: 'replace'; value: unknown }
  | { op: 'delete' }
  | { op: 'addKey'; key: string; value: unknown }
  | { op: 'wrap' };

const jsonEditArb: fc.Arbitrary<JsonEdit> = fc.oneof(
  fc.record({
    op: fc.constant('replace' as const),
    value: fc.oneof(
      valueArb,
      fc.constantFrom(-1, 0, 1.5, 2 ** 53, 2 ** 32, 65_535, 10_001, '', 'x'.repeat(300), null),
      anyStamp,
    ),
  }),
  fc.record({ op: fc.constant('delete' as const) }),
  fc.record({
    op: fc.constant('addKey' as const),
    key: fc.constantFrom('x', 'type', '__proto__', 'constructor', 'rows', 'v', 'p', ''),
    value: valueArb,
  }),
  fc.record({ op: fc.constant('wrap' as const) }),
);

function editJson(body: unknown, pathIndex: number, edit: JsonEdit): unknown {
  const root = JSON.parse(JSON.stringify(body)) as unknown;
  const paths = allPaths(root);
  const path = paths[pathIndex % paths.length]!;
  const apply = (old: unknown): unknown => {
    switch (edit.op) {
      case 'replace':
        return edit.value;
      case 'wrap':
        return [old];
      case 'addKey': {
        if (old === null || typeof old !== 'object' || Array.isArray(old))
          return { [edit.key]: old };
        // defineProperty so that `__proto__` becomes an own key JSON.stringify writes out
        Object.defineProperty(old, edit.key, { value: edit.value, enumerable: true });
        return old;
      }
      case 'delete':
        return undefined;
    }
  };
  if (path.length === 0) return apply(root) ?? {};
  let parent = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  const next = apply(parent[last]);
  if (next === undefined) {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else {
    parent[last] = next;
  }
  return root;
}

type Mutation =
  | { kind: 'none' }
  | { kind: 'json'; pathIndex: number; edit: JsonEdit }
  | { kind: 'number'; index: number; literal: string }
  | { kind: 'bits'; bits: number[] }
  | { kind: 'truncate'; at: number }
  | {
      kind: 'bytes';
      edits: Array<{ at: number; byte: number; op: 'set' | 'insert' | 'delete' }>;
      fix: boolean;
    }
  | { kind: 'splice'; other: Message; at: number; from: number; fix: boolean }
  | { kind: 'type'; byte: number }
  | { kind: 'header'; at: number; byte: number };

const NUMBER_LITERALS = ['1e400', '-1e400', '-0', '-1', '1.5', '9007199254740992', '1e2', '0.0'];

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ kind: 'none' as const }) },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('json' as const),
      pathIndex: fc.nat(),
      edit: jsonEditArb,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('number' as const),
      index: fc.nat(),
      literal: fc.constantFrom(...NUMBER_LITERALS),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('bits' as const),
      bits: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('bytes' as const),
      edits: fc.array(
        fc.record({
          at: fc.nat(),
          byte: fc.integer({ min: 0, max: 255 }),
          op: fc.constantFrom('set' as const, 'insert' as const, 'delete' as const),
        }),
        { minLength: 1, maxLength: 4 },
      ),
      fix: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('splice' as const),
      other: messageArb,
      at: fc.nat(),
      from: fc.nat(),
      fix: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('type' as const),
      byte: fc.integer({ min: 0, max: 10 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('header' as const),
      at: fc.integer({ min: 0, max: HEADER_BYTES - 1 }),
      byte: fc.integer({ min: 0, max: 255 }),
    }),
  },
);

function fixLength(frame: Uint8Array): Uint8Array {
  if (frame.length >= HEADER_BYTES) {
    new DataView(frame.buffer, frame.byteOffset, frame.byteLength).setUint32(
      4,
      frame.length - HEADER_BYTES,
    );
  }
  return frame;
}

/** The frame of `message` with `mutation` applied. */
function mutate(message: Message, mutation: Mutation): Uint8Array {
  const { type } = message;
  switch (mutation.kind) {
    case 'none':
      return encodeWire(message);
    case 'json': {
      const body = JSON.parse(bodyOf(encodeWire(message))) as unknown;
      return encodeFrame(type, JSON.stringify(editJson(body, mutation.pathIndex, mutation.edit)));
    }
    case 'number': {
      const text = bodyOf(encodeWire(message));
      const numbers = [...text.matchAll(/-?\d+(\.\d+)?([eE][+-]?\d+)?/g)];
      const hit = numbers[mutation.index % Math.max(1, numbers.length)];
      if (!hit) return encodeFrame(type, text);
      const at = hit.index;
      return encodeFrame(
        type,
        text.slice(0, at) + mutation.literal + text.slice(at + hit[0].length),
      );
    }
    case 'bits': {
      const frame = encodeWire(message);
      for (const bit of mutation.bits) {
        const at = bit % (frame.length * 8);
        frame[at >> 3]! ^= 1 << (at & 7);
      }
      return frame;
    }
    case 'truncate': {
      const frame = encodeWire(message);
      return frame.slice(0, mutation.at % frame.length);
    }
    case 'bytes': {
      const bytes = Array.from(encodeWire(message));
      for (const { at, byte, op } of mutation.edits) {
        const i = at % (bytes.length + 1);
        if (op === 'insert') bytes.splice(i, 0, byte);
        else if (op === 'delete') bytes.splice(i, 1);
        else if (i < bytes.length) bytes[i] = byte;
      }
      const frame = new Uint8Array(bytes);
      return mutation.fix ? fixLength(frame) : frame;
    }
    case 'splice': {
      const a = encodeWire(message);
      const b = encodeWire(mutation.other);
      const frame = new Uint8Array([
        ...a.subarray(0, mutation.at % (a.length + 1)),
        ...b.subarray(mutation.from % (b.length + 1)),
      ]);
      return mutation.fix ? fixLength(frame) : frame;
    }
    case 'type': {
      const frame = encodeWire(message);
      frame[3] = mutation.byte;
      return frame;
    }
    case 'header': {
      const frame = encodeWire(message);
      frame[mutation.at] = mutation.byte;
      return frame;
    }
  }
}

/** Garbage: random bytes, or random JSON (or almost-JSON) under a valid header. */
const garbageArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc
    .tuple(fc.constantFrom(0x4d, 0x00), fc.uint8Array({ maxLength: 40 }))
    .map(([m, rest]) => new Uint8Array([m, 0x53, ...rest])),
  fc
    .tuple(fc.integer({ min: 0, max: 10 }), fc.uint8Array({ maxLength: 64 }))
    .map(([type, body]) => fixLength(new Uint8Array([0x4d, 0x53, 1, type, 0, 0, 0, 0, ...body]))),
  fc
    .tuple(fc.integer({ min: 1, max: 8 }), fc.json({ maxDepth: 3 }))
    .map(([type, json]) => rawFrame(type, json)),
  fc
    .tuple(
      fc.integer({ min: 1, max: 8 }),
      fc.dictionary(
        fc.constantFrom(
          'req',
          'after',
          'rows',
          'bytes',
          'cursor',
          'head',
          'from',
          'to',
          'push',
          'more',
          'reason',
          'code',
          'message',
          'min',
          'max',
          'device',
          'epoch',
          'caps',
          'want',
          'maxFrame',
        ),
        valueArb,
      ),
    )
    .map(([type, body]) => rawFrame(type, JSON.stringify(body))),
);

function rawFrame(type: number, text: string): Uint8Array {
  const body = new TextEncoder().encode(text);
  return fixLength(new Uint8Array([0x4d, 0x53, 1, type, 0, 0, 0, 0, ...body]));
}

// ---- (a) decoder fuzz ----------------------------------------------------------------------------

const DECODE_CODES: readonly ErrorCode[] = [
  'FRAME_TOO_LARGE',
  'BAD_FRAME',
  'PROTOCOL_VERSION',
  'UNKNOWN_MESSAGE',
  'BAD_MESSAGE',
];
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes one fuzzed frame and checks the outcome; returns `ok` or the refusal code. */
function checkDecode(frame: Uint8Array, maxFrameBytes?: number): string {
  let message: Message;
  try {
    message = maxFrameBytes === undefined ? decodeFrame(frame) : decodeFrame(frame, maxFrameBytes);
  } catch (err) {
    if (!(err instanceof MeshsyncError)) {
      throw new Error(`decodeFrame threw a non-MeshsyncError on ${hex(frame)}`, { cause: err });
    }
    if (!DECODE_CODES.includes(err.code)) {
      throw new Error(`decodeFrame refused ${hex(frame)} with ${err.code}`, { cause: err });
    }
    return err.code;
  }
  // The message is exactly the body under the header's type: nothing dropped, nothing added
  // (rows compared through an independent reading of the wire form).
  expect(frame[3]).toBe(MESSAGE_TYPES[message.type]);
  const body = JSON.parse(utf8.decode(frame.subarray(HEADER_BYTES))) as Record<string, unknown>;
  if (message.type === 'changes') body.rows = (body.rows as WireRow[]).map(fromWire);
  expect(jsonEqual({ type: message.type, ...body }, message as unknown as JsonValue)).toBe(true);
  // It re-encodes to a frame that decodes to the same message, and encoding is then stable.
  const again = encodeWire(message);
  const redecoded = decodeFrame(again);
  expect(jsonEqual(redecoded as unknown as JsonValue, message as unknown as JsonValue)).toBe(true);
  expect(hex(encodeWire(redecoded))).toBe(hex(again));
  return 'ok';
}

type WireField = unknown[] | { s: string; p?: string };
type WireRow = {
  c: string;
  i: string;
  a: string | null;
  d: string | null;
  f: Record<string, WireField>;
};

/** The record state a valid wire row stands for (PROTOCOL.md, "Rows"), written independently. */
function fromWire(row: WireRow): Row {
  const f: Row['f'] = {};
  for (const [name, field] of Object.entries(row.f)) {
    if (Array.isArray(field)) {
      const [v, s, p] = field as [unknown, string, string];
      if (field.length === 1) f[name] = { s: row.a!, v };
      else if (field.length === 2) f[name] = { s, v };
      else f[name] = { s, p, v };
    } else {
      f[name] = field.p === undefined ? { s: field.s } : { s: field.s, p: field.p };
    }
  }
  return { c: row.c, i: row.i, a: row.a, d: row.d, f };
}

const decoderCaseArb: fc.Arbitrary<{ frame: Uint8Array; max: number | null }> = fc.record({
  frame: fc.oneof(
    { weight: 3, arbitrary: messageArb.map(encodeWire) },
    { weight: 12, arbitrary: fc.tuple(messageArb, mutationArb).map(([m, mut]) => mutate(m, mut)) },
    { weight: 3, arbitrary: garbageArb },
  ),
  // Mostly the default limit; sometimes a small one, so FRAME_TOO_LARGE is reachable cheaply.
  max: fc.oneof(
    { weight: 9, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.nat({ max: 400 }) },
  ),
});

describe('(a) decoder fuzz', () => {
  it(`${RUNS} fuzzed frames: decoded exactly, or refused with a documented code`, () => {
    const outcomes = new Map<string, number>();
    fc.assert(
      fc.property(decoderCaseArb, ({ frame, max }) => {
        const outcome = checkDecode(frame, max ?? undefined);
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }),
      { numRuns: RUNS },
    );
    // Every outcome was reached, so no generator is dead.
    for (const outcome of ['ok', ...DECODE_CODES])
      expect(outcomes.get(outcome) ?? 0).toBeGreaterThan(0);
    expect(outcomes.get('ok')!).toBeGreaterThan(RUNS / 10);
    expect(outcomes.get('BAD_MESSAGE')!).toBeGreaterThan(RUNS / 10);
  });
});

// ---- (b) live engine fuzz ------------------------------------------------------------------------

/** Codes a session may report while refusing this input; anything else is a finding. */
const SESSION_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ...DECODE_CODES,
  'PROTOCOL_STATE',
  'CLOCK_DRIFT',
  'UNWANTED_COLLECTION',
  'REMOTE_ERROR',
]);

/** The target's cursor into FUZZ after setup: it has applied FUZZ's changes up to seq 10. */
const CURSOR = 10;

const SESSION_OPTIONS: SyncOptions = {
  want: WANT,
  autoPull: true,
  maxProtocolErrors: 1e9,
  requestTimeoutMs: 600_000,
  handshakeTimeoutMs: 600_000,
};

const wantedRow = rowArb(fc.constantFrom(...WANT), nearStamp);
const unwantedRow = rowArb(
  fc.oneof(
    fc.constant('secret'),
    collectionArb.filter((c) => !WANT.includes(c)),
  ),
  nearStamp,
);
/** A wanted row with at least one stamp (a, d or a field's s) beyond the drift limit. */
const driftRow: fc.Arbitrary<Row> = fc
  .tuple(wantedRow, farStamp, fc.constantFrom('a', 'd', 'f'), fieldNameArb)
  .map(([row, far, where, name]) => {
    if (where === 'a') return { ...row, a: far };
    if (where === 'd') return { ...row, d: far };
    return { ...row, f: { ...row.f, [name]: { s: far, v: 1 } } };
  });

/** Rows with at least one of `special` among wanted rows, in any position. */
const rowsWith = (special: fc.Arbitrary<Row>): fc.Arbitrary<Row[]> =>
  fc.tuple(fc.array(wantedRow, { maxLength: 3 }), special, fc.nat()).map(([rows, row, at]) => {
    const out = [...rows];
    out.splice(at % (rows.length + 1), 0, row);
    return out;
  });

const above = (min: number): fc.Arbitrary<number> =>
  fc.oneof(fc.integer({ min, max: min + 50 }), fc.integer({ min, max: Number.MAX_SAFE_INTEGER }));

type PageVariant = 'gap' | 'old' | 'unwanted' | 'drift';

/** A pushed page the target must refuse or ignore, given its cursor CURSOR. */
const pushPageArb = (variant: PageVariant): fc.Arbitrary<Message> => {
  const shape = (
    from: fc.Arbitrary<number>,
    toAbove: (from: number) => fc.Arbitrary<number>,
    rows: fc.Arbitrary<Row[]>,
  ): fc.Arbitrary<Message> =>
    fc
      .tuple(reqArb, from, fc.nat({ max: 60 }), fc.boolean(), rows)
      .chain(([req, f, extra, more, rs]) =>
        toAbove(f).map(
          (to) =>
            ({
              type: 'changes',
              req,
              push: true,
              from: f,
              to,
              head: Math.min(to + extra, Number.MAX_SAFE_INTEGER),
              more,
              rows: rs,
            }) as unknown as Message,
        ),
      );
  switch (variant) {
    case 'gap':
      return shape(above(CURSOR + 1), (f) => above(f), fc.array(wantedRow, { maxLength: 4 }));
    case 'old':
      return shape(
        fc.integer({ min: 0, max: CURSOR }),
        (f) => fc.integer({ min: f, max: CURSOR }),
        fc.array(wantedRow, { maxLength: 4 }),
      );
    case 'unwanted':
      return shape(
        fc.integer({ min: 0, max: CURSOR }),
        () => above(CURSOR + 1),
        rowsWith(unwantedRow),
      );
    case 'drift':
      return shape(
        fc.integer({ min: 0, max: CURSOR }),
        () => above(CURSOR + 1),
        rowsWith(driftRow),
      );
  }
};

type AnswerVariant = 'misfit' | 'unwanted' | 'drift' | 'noop';

/** An answer to the target's own pending pull (req and after filled in when it is sent). */
interface AnswerRecipe {
  kind: 'answer';
  variant: AnswerVariant;
  from: number;
  to: number;
  extra: number;
  more: boolean;
  rows: Row[];
}

const answerArb: fc.Arbitrary<AnswerRecipe> = fc
  .constantFrom<AnswerVariant>('misfit', 'unwanted', 'drift', 'noop')
  .chain((variant) =>
    fc.record({
      kind: fc.constant('answer' as const),
      variant: fc.constant(variant),
      from: seqArb.filter((f) => f !== CURSOR),
      to: above(CURSOR + 1),
      extra: fc.nat({ max: 60 }),
      more: fc.boolean(),
      rows:
        variant === 'unwanted'
          ? rowsWith(unwantedRow)
          : variant === 'drift'
            ? rowsWith(driftRow)
            : fc.array(wantedRow, { maxLength: 4 }),
    }),
  );

function answerMessage(recipe: AnswerRecipe, req: number, after: number): Message {
  let from = after;
  let to = recipe.to;
  if (recipe.variant === 'misfit') {
    from = recipe.from;
    to = Math.max(from, recipe.to);
  } else if (recipe.variant === 'noop') {
    to = after;
  }
  const head = Math.min(to + recipe.extra, Number.MAX_SAFE_INTEGER);
  return {
    type: 'changes',
    req,
    push: false,
    from,
    to,
    head,
    more: recipe.more,
    rows: recipe.rows,
  } as unknown as Message;
}

/** Messages that only read, or that the session ignores (bye and some errors end the session). */
const readOnlyArb: fc.Arbitrary<Message> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      type: fc.constant('pull' as const),
      req: reqArb,
      after: seqArb,
      rows: fc.integer({ min: 1, max: 10_000 }),
      bytes: fc.oneof(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 0xffffffff })),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ type: fc.constant('ack' as const), req: reqArb, cursor: seqArb }),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('welcome' as const), cursor: seqArb }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('changed' as const), head: seqArb }) },
  { weight: 2, arbitrary: helloArb },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('error' as const),
      req: fc.oneof(fc.constant(0), reqArb),
      code: fc.oneof(
        { weight: 20, arbitrary: errorCodeArb.filter((c) => c !== 'PROTOCOL_VERSION') },
        { weight: 1, arbitrary: fc.constant('PROTOCOL_VERSION') },
      ),
      message: fc.string({ maxLength: 40 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(reqArb, rangeArb, fc.boolean(), fc.array(wantedRow, { maxLength: 3 }))
      .map(
        ([req, [from, to, head], more, rows]) =>
          ({ type: 'changes', req, push: false, from, to, head, more, rows }) as unknown as Message,
      ),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('bye' as const),
      reason: fc.string({ maxLength: 20 }),
    }),
  },
) as fc.Arbitrary<Message>;

type EngineCase = {
  phase: 'ready' | 'fresh';
  base:
    { kind: 'message'; message: Message } | AnswerRecipe | { kind: 'garbage'; frame: Uint8Array };
  mutation: Mutation;
};

const engineCaseArb: fc.Arbitrary<EngineCase> = fc.record({
  phase: fc.oneof(
    { weight: 9, arbitrary: fc.constant('ready' as const) },
    { weight: 1, arbitrary: fc.constant('fresh' as const) },
  ),
  base: fc.oneof(
    {
      weight: 8,
      arbitrary: fc
        .constantFrom<PageVariant>('gap', 'old', 'unwanted', 'drift')
        .chain(pushPageArb)
        .map((message) => ({ kind: 'message' as const, message })),
    },
    { weight: 3, arbitrary: answerArb },
    { weight: 6, arbitrary: readOnlyArb.map((message) => ({ kind: 'message' as const, message })) },
    { weight: 1, arbitrary: garbageArb.map((frame) => ({ kind: 'garbage' as const, frame })) },
  ),
  mutation: mutationArb,
});

type Dumpable = { store: Peer['replica']['store'] };

/** Everything the store holds, as one string: records, lastSeq, every cursor, conflicts, HLC. */
async function dump({ store }: Dumpable): Promise<string> {
  const cursors = (store as unknown as { cursors: unknown }).cursors;
  if (!(cursors instanceof Map)) throw new Error('MemoryStore no longer keeps cursors in a Map');
  return JSON.stringify({
    lastSeq: await store.lastSeq(),
    records: await store.changesSince(0, Number.MAX_SAFE_INTEGER),
    cursors: [...(cursors as Map<string, CursorState>).entries()].sort(),
    conflicts: await store.conflicts(),
    hlc: await store.getMeta('hlc'),
    device: await store.getMeta('device'),
    epoch: await store.getMeta('epoch'),
  });
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Newest wall clock among the stamps the engine checks for drift (a, d and every field's s). */
function newestWall(rows: readonly Row[]): number {
  let newest = -1;
  for (const row of rows) {
    for (const s of [row.a, row.d, ...Object.values(row.f).map((f) => f.s)]) {
      if (s !== null) newest = Math.max(newest, parseInt(s.slice(0, 9), 36));
    }
  }
  return newest;
}

/** The far end of the target's session, driven by the test. */
class Harness {
  session!: SyncSession;
  far!: Transport;
  closed = true;
  /** The target's pulls we have not answered: req -> after. */
  readonly pendingPulls = new Map<number, number>();
  readonly errors: unknown[] = [];
  readonly problems: string[] = [];
  readonly stats = { sent: 0, skipped: 0, reconnects: 0, fresh: 0, acks: 0, closes: 0 };
  readonly codesSeen = new Map<string, number>();
  private waiters: Array<(message: Message) => boolean> = [];
  private barrierSeq = 0;
  /** The target's head after setup: cursors past it are a restored store's signature. */
  head = 0;

  constructor(readonly target: Peer) {}

  /** (Re)connects and completes the handshake as FUZZ with epoch FUZZ_EPOCH. */
  async connect(): Promise<void> {
    const [near, far] = createMemoryTransportPair();
    this.far = far;
    this.pendingPulls.clear();
    far.on('message', (frame) => this.onFrame(frame, true));
    const session = this.target.connect(near, SESSION_OPTIONS);
    this.session = session;
    this.closed = false;
    session.events.on('error', (err) => this.onError(err));
    session.events.on('closed', () => {
      if (this.session === session) {
        this.closed = true;
        this.stats.closes++;
        this.pendingPulls.clear();
        this.resolveWaiters();
      }
    });
    await far.send(encodeMessage(hello(FUZZ, FUZZ_EPOCH)));
    await far.send(encodeMessage({ type: 'welcome', cursor: 0 }));
    await session.whenReady();
    await flush();
  }

  onError(err: unknown): void {
    this.errors.push(err);
    if (!(err instanceof MeshsyncError)) {
      this.problems.push(`error event that is not a MeshsyncError: ${String(err)}`);
      return;
    }
    this.codesSeen.set(err.code, (this.codesSeen.get(err.code) ?? 0) + 1);
    if (!SESSION_CODES.has(err.code)) {
      this.problems.push(`unexpected error code ${err.code}: ${err.message}`);
    }
  }

  /** Every frame the target sends must decode; acks must carry the real cursor. */
  onFrame(frame: Uint8Array, main: boolean): void {
    let message: Message;
    try {
      message = decodeFrame(frame);
    } catch (err) {
      this.problems.push(`target sent an undecodable frame ${hex(frame)}: ${String(err)}`);
      return;
    }
    if (message.type === 'error') {
      const code = message.code as ErrorCode;
      if (!SESSION_CODES.has(code)) this.problems.push(`target sent error code ${code}`);
    }
    if (main && message.type === 'pull') this.pendingPulls.set(message.req, message.after);
    if (main && message.type === 'ack') {
      this.stats.acks++;
      if (message.cursor !== CURSOR) this.problems.push(`ack of cursor ${message.cursor}`);
    }
    this.waiters = this.waiters.filter((waiter) => !waiter(message));
  }

  private resolveWaiters(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter({ type: 'bye', reason: 'closed' });
  }

  /** Resolves with the first frame from the target that `match`es, or when the session closes. */
  waitFor(match: (message: Message) => boolean): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push((message) => {
        if (message.type === 'bye' && message.reason === 'closed' && this.closed) {
          resolve();
          return true;
        }
        if (!match(message)) return false;
        resolve();
        return true;
      });
    });
  }

  /** A pull nobody else sends: once answered, every frame sent before it has been handled. */
  async barrier(far: Transport, isClosed: () => boolean): Promise<void> {
    // A pull with a request id of its own; after 0 so it never claims more than the store holds.
    const req = 0xf0000000 + ++this.barrierSeq;
    const answered = new Promise<void>((resolve) => {
      const off = far.on('message', (frame) => {
        let m: Message | undefined;
        try {
          m = decodeFrame(frame);
        } catch {
          return; // reported by onFrame
        }
        if (m.type === 'changes' && m.req === req) {
          off();
          resolve();
        }
      });
      const offClose = far.on('close', () => {
        offClose();
        resolve();
      });
    });
    if (!isClosed()) {
      await far
        .send(encodeMessage({ type: 'pull', req, after: 0, rows: 1, bytes: 1 }))
        .catch(() => undefined);
      await answered;
    }
    await flush();
  }

  /** A pending pull of the target's to answer, asking for one with a `changed` notice if needed. */
  async pendingPull(): Promise<[number, number] | undefined> {
    if (this.pendingPulls.size === 0) {
      const asked = this.waitFor((m) => m.type === 'pull');
      await this.far.send(encodeMessage({ type: 'changed', head: 2 ** 40 }));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), 2000);
      });
      if (await Promise.race([asked.then(() => false), timedOut])) {
        this.problems.push('the target did not pull after a "changed" notice');
      }
      clearTimeout(timer);
      await flush();
    }
    const first = [...this.pendingPulls.entries()][0];
    return first;
  }

  /** Would the engine have to apply this frame? (Such frames are not sent: they change state.) */
  applicable(frame: Uint8Array): boolean {
    let m: Message;
    try {
      m = decodeFrame(frame);
    } catch {
      return false;
    }
    // A cursor past the target's head means "your store was restored": it rotates its epoch.
    if (m.type === 'welcome') return m.cursor > this.head;
    if (m.type === 'pull') return m.after > this.head;
    if (m.type !== 'changes') return false;
    if (!m.push) {
      const after = this.pendingPulls.get(m.req);
      if (after === undefined || m.from !== after) return false;
    }
    const rows = m.rows as unknown as Row[];
    if (rows.some((row) => !WANT.includes(row.c))) return false;
    if (newestWall(rows) > NOW + DRIFT) return false;
    return m.from <= CURSOR && m.to > CURSOR;
  }

  /** Bookkeeping for a frame we send: answers and errors consume the target's pending pull. */
  noteSent(frame: Uint8Array): void {
    let m: Message;
    try {
      m = decodeFrame(frame);
    } catch {
      return;
    }
    if ((m.type === 'changes' && !m.push) || (m.type === 'error' && m.req !== 0)) {
      this.pendingPulls.delete(m.req);
    }
  }

  async runReady(frame: Uint8Array): Promise<void> {
    if (this.applicable(frame)) {
      this.stats.skipped++;
      return;
    }
    this.noteSent(frame);
    this.stats.sent++;
    await this.far.send(frame);
    await this.barrier(this.far, () => this.closed);
  }

  /** One frame as the very first thing a new session hears, then a normal handshake. */
  async runFresh(frame: Uint8Array): Promise<void> {
    const [near, far] = createMemoryTransportPair();
    far.on('message', (f) => this.onFrame(f, false));
    const session = this.target.connect(near, { ...SESSION_OPTIONS, autoPull: false });
    let closed = false;
    session.events.on('closed', () => (closed = true));
    session.events.on('error', (err) => this.onError(err));
    this.stats.fresh++;
    this.stats.sent++;
    await far.send(frame);
    await far.send(encodeMessage(hello('fuzz2', 'fuzzepoch0002'))).catch(() => undefined);
    await far.send(encodeMessage({ type: 'welcome', cursor: 0 })).catch(() => undefined);
    await this.barrier(far, () => closed);
    session.close('fuzz case done');
    await flush();
  }
}

function hello(device: string, epoch: string): Message {
  return {
    type: 'hello',
    min: 1,
    max: 1,
    device,
    epoch,
    caps: [],
    want: null,
    maxFrame: 8 * 1024 * 1024,
  } as unknown as Message;
}

describe('(b) live engine fuzz', () => {
  let target: Peer;
  let harness: Harness;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    target = await memoryPeer(TARGET, { now: () => NOW });
    // The target's own data: live records, a patched one, a tombstone, an unwanted collection.
    for (let k = 0; k < 4; k++) {
      await target
        .collection('tasks')
        .put(`t${k}`, { title: `task ${k}`, done: k % 2 === 0, n: k });
      await target.collection('notes').put(`n${k}`, { text: `note ${k}`, tags: ['a', { b: k }] });
      await target.collection('secret').put(`s${k}`, { pin: k });
    }
    await target.collection('tasks').patch('t1', { done: true, n: undefined });
    await target.collection('notes').delete('n2');
    harness = new Harness(target);
    await harness.connect();
    // One real page from FUZZ, so the target holds rows from it (no-echo) and a cursor of 10.
    const setup = {
      type: 'changes',
      req: 1,
      push: true,
      from: 0,
      to: CURSOR,
      head: CURSOR,
      more: false,
      rows: [
        {
          c: 'tasks',
          i: 'f1',
          a: encodeStamp(NOW - 5000, 0, FUZZ as DeviceId),
          d: null,
          f: { title: { s: encodeStamp(NOW - 5000, 0, FUZZ as DeviceId), v: 'from fuzz' } },
        },
        {
          c: 'tasks',
          i: 't0',
          a: encodeStamp(NOW - 4000, 0, FUZZ as DeviceId),
          d: null,
          f: { title: { s: encodeStamp(NOW - 4000, 0, FUZZ as DeviceId), v: 'concurrent' } },
        },
      ],
    } as unknown as Message;
    const acked = harness.waitFor((m) => m.type === 'ack' && m.req === 1);
    await harness.far.send(encodeWire(setup));
    await acked;
    harness.head = await target.replica.head();
    expect(await target.replica.cursorFor(FUZZ as DeviceId, FUZZ_EPOCH, 'notes,tasks')).toBe(
      CURSOR,
    );
    expect(await target.collection('tasks').get('f1')).toEqual({ title: 'from fuzz' });
  });

  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await target.stop();
  });

  it(`${RUNS} frames that must not change state: none does, and the peer survives them all`, async () => {
    const before = await dump(target.replica);
    const acksBefore = harness.stats.acks;
    harness.stats.acks = 0;
    await fc.assert(
      fc.asyncProperty(engineCaseArb, async (c) => {
        if (harness.closed) {
          harness.stats.reconnects++;
          await harness.connect();
        }
        let frame: Uint8Array;
        if (c.base.kind === 'garbage') {
          frame = c.base.frame;
        } else if (c.base.kind === 'answer') {
          const pending = c.phase === 'ready' ? await harness.pendingPull() : undefined;
          const [req, after] = pending ?? [1, CURSOR];
          frame = mutate(answerMessage(c.base, req, after), c.mutation);
        } else {
          frame = mutate(c.base.message, c.mutation);
        }
        if (c.phase === 'fresh') await harness.runFresh(frame);
        else await harness.runReady(frame);
        const after = await dump(target.replica);
        if (after !== before) {
          throw new Error(`store changed after frame ${hex(frame)}`);
        }
        if (harness.problems.length > 0) {
          throw new Error(`after frame ${hex(frame)}: ${harness.problems.join('; ')}`);
        }
        if (unhandled.length > 0) {
          throw new Error(`unhandled rejection after frame ${hex(frame)}: ${String(unhandled[0])}`);
        }
      }),
      // A failure leaves the live peer in a new state, so shrinking would mislead: stop at once.
      { numRuns: RUNS, endOnFailure: true },
    );
    expect(acksBefore).toBe(1); // the setup page
    const { stats, codesSeen } = harness;
    // The oracle kept only a few applicable frames back; most cases reached the engine.
    expect(stats.sent).toBeGreaterThan(RUNS * 0.9);
    expect(stats.sent + stats.skipped).toBe(RUNS);
    // Gap and old pages were acknowledged (with the real cursor, checked per frame).
    expect(stats.acks).toBeGreaterThan(RUNS / 50);
    // The refusals the cases aim at all happened.
    for (const code of [
      'BAD_FRAME',
      'BAD_MESSAGE',
      'UNKNOWN_MESSAGE',
      'PROTOCOL_VERSION',
      'PROTOCOL_STATE',
      'CLOCK_DRIFT',
      'UNWANTED_COLLECTION',
      'REMOTE_ERROR',
    ]) {
      expect(codesSeen.get(code) ?? 0, code).toBeGreaterThan(0);
    }
    // The session was closed by bye / PROTOCOL_VERSION errors and came back each time.
    expect(stats.reconnects).toBeGreaterThan(0);
    expect(harness.errors.every((e) => e instanceof MeshsyncError)).toBe(true);
    expect(unhandled).toEqual([]);
    expect(await dump(target.replica)).toBe(before);
  });
});
