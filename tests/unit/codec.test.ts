import { describe, expect, it } from 'vitest';
import { MeshsyncError, type ErrorCode } from '../../shared/errors.js';
import { LIMITS } from '../../shared/limits.js';
import {
  decodeFrame,
  encodeChangesFrame,
  encodeFrame,
  encodeMessage,
  HEADER_BYTES,
  peekPageHead,
  peekType,
} from '../../shared/protocol/codec.js';
import { MESSAGE_TYPES, type Message, type MessageType } from '../../shared/protocol/messages.js';
import { encodeRow } from '../../shared/protocol/wire-row.js';

/*
 * Wire-level tests of the frame codec against PROTOCOL.md: golden bytes, round trips, and every
 * refusal with its exact error code (and, for BAD_MESSAGE, the path of the offending field, so a
 * case cannot pass for the wrong reason).
 */

// ---- helpers ---------------------------------------------------------------------------------

const hex = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
const unhex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'));
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/** A frame built by hand (not by the codec), so header fields can be wrong on purpose. */
function rawFrame(
  type: number,
  body: string | Uint8Array,
  header: { magic?: [number, number]; format?: number; length?: number } = {},
): Uint8Array {
  const bytes = typeof body === 'string' ? utf8(body) : body;
  const out = new Uint8Array(HEADER_BYTES + bytes.length);
  const [m0, m1] = header.magic ?? [0x4d, 0x53];
  out[0] = m0;
  out[1] = m1;
  out[2] = header.format ?? 1;
  out[3] = type;
  new DataView(out.buffer).setUint32(4, header.length ?? bytes.length);
  out.set(bytes, HEADER_BYTES);
  return out;
}

/** The code of the MeshsyncError `fn` throws; fails the test on success or on any other error. */
function refusal(fn: () => unknown): MeshsyncError {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  if (thrown === undefined) throw new Error('expected a MeshsyncError, but nothing was thrown');
  if (!(thrown instanceof MeshsyncError)) {
    throw new Error('expected a MeshsyncError, got another error', { cause: thrown });
  }
  return thrown;
}

function expectCode(frame: Uint8Array, code: ErrorCode, maxFrameBytes?: number): MeshsyncError {
  const err = refusal(() => decodeFrame(frame, maxFrameBytes));
  expect(err.code).toBe(code);
  return err;
}

/**
 * Body text with raw number literals JSON.stringify cannot produce: a string `"RAW<<1e400>>"`
 * anywhere in the value becomes the bare literal `1e400`.
 */
const raw = (literal: string): string => `RAW<<${literal}>>`;
const bodyText = (body: unknown): string =>
  JSON.stringify(body).replace(/"RAW<<(.*?)>>"/g, (_m, literal: string) => literal);

/**
 * Encodes a message the way the engine does: pages through encodeChangesFrame with each row in
 * its wire form (encodeRow), every other message with encodeMessage.
 */
function encodeWire(message: Message): Uint8Array {
  if (message.type !== 'changes') return encodeMessage(message);
  const { req, push, from, to, head, more, rows } = message;
  return encodeChangesFrame({ req, push, from, to, head, more }, rows.map(encodeRow));
}

function frameOf(type: MessageType, body: unknown): Uint8Array {
  return encodeFrame(type, bodyText(body));
}

const MISSING = Symbol('missing');

/** A deep copy of `body` with the value at `path` (dot separated, array indexes as numbers) set. */
function withValue(body: unknown, path: string, value: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(body)) as Record<string, unknown>;
  const keys = path.split('.');
  let node: Record<string, unknown> = copy;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  const last = keys[keys.length - 1]!;
  if (value === MISSING) delete node[last];
  else node[last] = value;
  return copy;
}

/** The decoder's path for a body path: `rows.0.f.title.s` is reported as `changes.rows[0].f.title.s`. */
const wirePath = (type: string, path: string): string =>
  `${type}.${path}`.replace(/\.(\d+)(?=\.|$)/g, '[$1]');

function expectBadMessage(type: MessageType, body: unknown, path: string): void {
  const err = expectCode(frameOf(type, body), 'BAD_MESSAGE');
  expect(err.details?.path).toBe(path);
}

// ---- fixtures --------------------------------------------------------------------------------

/** 1_700_000_000_000 ms = `loyw3v28` in base36, padded to 9 digits; counter 0; device devA1. */
const S1 = '0loyw3v280000devA1';
const S2 = '0loyw3v280001devB1';
/** One minute earlier: 1_699_999_940_000 ms = `loyw2krk`. */
const S0 = '0loyw2krk0000devA1';

const BASE: { [T in MessageType]: Record<string, unknown> } = {
  hello: {
    min: 1,
    max: 1,
    device: 'devA1',
    epoch: 'k3j9x0q2m5v8w1zr',
    caps: ['zstd'],
    want: ['tasks'],
    maxFrame: 8388608,
  },
  welcome: { cursor: 7 },
  pull: { req: 1, after: 0, rows: 2000, bytes: 1048576 },
  changes: {
    req: 2,
    push: true,
    from: 10,
    to: 11,
    head: 11,
    more: false,
    // Wire form of the fields: [v, s, p] and a removal {s, p}.
    rows: [
      { c: 'tasks', i: 't1', a: S2, d: S0, f: { title: ['café', S2, S1], gone: { s: S2, p: S1 } } },
    ],
  },
  ack: { req: 2, cursor: 11 },
  changed: { head: 42 },
  error: { req: 3, code: 'CLOCK_DRIFT', message: 'remote clock is too far ahead' },
  bye: { reason: 'done' },
};

const TYPES = Object.keys(MESSAGE_TYPES) as unknown as MessageType[];

// ---- golden encodings ------------------------------------------------------------------------

describe('golden encodings (PROTOCOL.md, "Worked examples")', () => {
  // Each: header (magic 4d53, format 01, type byte, big-endian body length) + UTF-8 JSON body.
  const golden: Array<[string, Message, string]> = [
    [
      'hello',
      {
        type: 'hello',
        min: 1,
        max: 1,
        device: 'devA1',
        epoch: 'k3j9x0q2m5v8w1zr',
        caps: [],
        want: ['tasks'],
        maxFrame: 8388608,
      } as unknown as Message,
      // {"min":1,"max":1,"device":"devA1","epoch":"k3j9x0q2m5v8w1zr","caps":[],"want":["tasks"],"maxFrame":8388608}
      '4d530101' +
        '0000006b' +
        '7b226d696e223a312c226d6178223a312c22646576696365223a226465764131222c2265706f6368223a22' +
        '6b336a39783071326d35763877317a72222c2263617073223a5b5d2c2277616e74223a5b227461736b7322' +
        '5d2c226d61784672616d65223a383338383630387d',
    ],
    [
      'welcome',
      { type: 'welcome', cursor: 7 },
      // {"cursor":7}
      '4d530102' + '0000000c' + '7b22637572736f72223a377d',
    ],
    [
      'pull',
      { type: 'pull', req: 1, after: 0, rows: 2000, bytes: 1048576 },
      // {"req":1,"after":0,"rows":2000,"bytes":1048576}
      '4d530103' +
        '0000002f' +
        '7b22726571223a312c226166746572223a302c22726f7773223a323030302c226279746573223a31303438' +
        '3537367d',
    ],
    [
      'changes',
      {
        type: 'changes',
        req: 2,
        push: true,
        from: 10,
        to: 11,
        head: 11,
        more: false,
        rows: [
          {
            c: 'tasks',
            i: 't1',
            a: S2,
            d: S0,
            f: {
              title: { s: S2, v: 'café' }, // written by the last write, at `a`: ["café"]
              done: { s: S1, p: S0, v: true }, // [true, s, p]
              tags: { s: S1, v: ['x'] }, // [["x"], s]
              note: { s: S2, p: S0 }, // removed: {"s", "p"}
            },
          },
        ],
      } as unknown as Message,
      // {"req":2,"push":true,"from":10,"to":11,"head":11,"more":false,"rows":[{"c":"tasks",
      //  "i":"t1","a":"0loyw3v280001devB1","d":"0loyw2krk0000devA1","f":{"title":["café"],
      //  "done":[true,"0loyw3v280000devA1","0loyw2krk0000devA1"],
      //  "tags":[["x"],"0loyw3v280000devA1"],
      //  "note":{"s":"0loyw3v280001devB1","p":"0loyw2krk0000devA1"}}}]}
      // (é is the two UTF-8 bytes c3 a9: 319 body bytes = 0x13f, 318 characters)
      '4d530104' +
        '0000013f' +
        '7b22726571223a322c2270757368223a747275652c2266726f6d223a31302c22746f' +
        '223a31312c2268656164223a31312c226d6f7265223a66616c73652c22726f7773223a5b7b2263223a22' +
        '7461736b73222c2269223a227431222c2261223a22306c6f797733763238303030316465764231222c22' +
        '64223a22306c6f7977326b726b303030306465764131222c' +
        '2266223a7b227469746c65223a5b22636166c3a9225d2c22646f6e65223a5b747275' +
        '652c22306c6f797733763238303030306465764131222c22306c6f7977326b726b303030306465764131' +
        '225d2c2274616773223a5b5b2278225d2c22306c6f797733763238303030306465764131225d2c226e6f' +
        '7465223a7b2273223a22306c6f797733763238303030316465764231222c2270223a22306c6f7977326b' +
        '726b303030306465764131227d7d7d5d7d',
    ],
    [
      'ack',
      { type: 'ack', req: 2, cursor: 11 },
      // {"req":2,"cursor":11}
      '4d530105' + '00000015' + '7b22726571223a322c22637572736f72223a31317d',
    ],
    [
      'changed',
      { type: 'changed', head: 42 },
      // {"head":42}
      '4d530106' + '0000000b' + '7b2268656164223a34327d',
    ],
    [
      'error',
      { type: 'error', req: 3, code: 'CLOCK_DRIFT', message: 'remote clock is too far ahead' },
      // {"req":3,"code":"CLOCK_DRIFT","message":"remote clock is too far ahead"}
      '4d530107' +
        '00000048' +
        '7b22726571223a332c22636f6465223a22434c4f434b5f4452494654222c226d657373616765223a2272' +
        '656d6f746520636c6f636b20697320746f6f20666172206168656164227d',
    ],
    [
      'bye',
      { type: 'bye', reason: 'done' },
      // {"reason":"done"}
      '4d530108' + '00000011' + '7b22726561736f6e223a22646f6e65227d',
    ],
  ];

  it.each(golden)('%s encodes to the golden bytes and decodes back', (_name, message, bytes) => {
    expect(hex(encodeWire(message))).toBe(bytes);
    expect(decodeFrame(unhex(bytes))).toEqual(message);
    expect(peekType(unhex(bytes))).toBe(message.type);
  });

  it('every golden header carries the length of its body', () => {
    for (const [, , bytes] of golden) {
      const frame = unhex(bytes);
      expect(new DataView(frame.buffer).getUint32(4)).toBe(frame.length - HEADER_BYTES);
    }
  });

  it('a page is the changes head, then the rows spliced in (encodeChangesFrame)', () => {
    const [, message, bytes] = golden.find(([name]) => name === 'changes')!;
    const { req, push, from, to, head, more, rows } = message as Extract<
      Message,
      { type: 'changes' }
    >;
    const rowJson = encodeRow(rows[0]!);
    expect(rowJson).toBe(
      `{"c":"tasks","i":"t1","a":"${S2}","d":"${S0}","f":{"title":["café"],"done":[true,"${S1}","${S0}"],"tags":[["x"],"${S1}"],"note":{"s":"${S2}","p":"${S0}"}}}`,
    );
    const frame = encodeChangesFrame({ req, push, from, to, head, more }, [rowJson]);
    expect(hex(frame)).toBe(bytes);
    // An empty page.
    expect(decodeFrame(encodeChangesFrame({ req, push, from, to, head, more }, []))).toEqual({
      ...message,
      rows: [],
    });
  });

  it('encodeMessage writes the rows of a page in wire form, like encodeChangesFrame', () => {
    const [, message] = golden.find(([name]) => name === 'changes')!;
    expect(decodeFrame(encodeMessage(message))).toEqual(message);
    const tombstone = {
      ...message,
      rows: [{ c: 'tasks', i: 't1', a: S1, d: S2, f: { x: { s: S2 } } }],
    } as unknown as Message;
    expect(decodeFrame(encodeMessage(tombstone))).toEqual(tombstone);
  });
});

// ---- round trips -----------------------------------------------------------------------------

describe('round trips', () => {
  const U32 = 0xffffffff;
  const MAX = Number.MAX_SAFE_INTEGER;
  const messages: Message[] = [
    { type: 'hello', ...BASE.hello } as unknown as Message,
    {
      type: 'hello',
      min: 1,
      max: 0xffff,
      device: 'Z'.repeat(64),
      epoch: 'a-b_C'.repeat(12).slice(0, 64),
      caps: Array.from({ length: LIMITS.maxCapabilities }, (_, i) => `cap:${i}.x-y_z`),
      want: Array.from({ length: LIMITS.maxWantedCollections }, (_, i) => `c${i}`),
      maxFrame: U32,
    } as unknown as Message,
    {
      type: 'hello',
      min: 1,
      max: 1,
      device: 'ab-_',
      epoch: '12345678',
      caps: [],
      want: [],
      maxFrame: 65536,
    } as unknown as Message,
    {
      type: 'hello',
      min: 1,
      max: 2,
      device: 'devA1',
      epoch: 'epoch123',
      caps: [],
      want: null,
      maxFrame: 65536,
    } as unknown as Message,
    { type: 'welcome', cursor: 0 },
    { type: 'welcome', cursor: MAX },
    { type: 'pull', req: 1, after: 0, rows: 1, bytes: 1 },
    { type: 'pull', req: U32, after: MAX, rows: LIMITS.maxPageRows, bytes: U32 },
    {
      type: 'changes',
      req: 1,
      push: false,
      from: 0,
      to: 0,
      head: 0,
      more: false,
      rows: [],
    },
    {
      type: 'changes',
      req: U32,
      push: true,
      from: 5,
      to: MAX,
      head: MAX,
      more: true,
      rows: [
        // a live record with a value of every JSON kind, a null value and a removed field
        {
          c: 'tasks',
          i: 'id with spaces / and ünïcödé 😀',
          a: S2,
          d: null,
          f: {
            str: { s: S2, v: 'x' },
            num: { s: S2, p: S1, v: -12.5e-3 },
            bool: { s: S2, v: false },
            nul: { s: S2, v: null },
            arr: { s: S2, v: [1, 'two', [3], { four: 4 }] },
            obj: { s: S2, v: { nested: { deeper: [] } } },
            gone: { s: S2, p: S1 },
            never: { s: S0 },
            'a field name with spaces and 😀': { s: S1, v: 1 },
          },
        },
        // fields in all four wire forms, and values that look like wire forms
        {
          c: 'notes',
          i: 'n1',
          a: S1,
          d: S0,
          f: {
            atA: { s: S1, v: [S1] },
            own: { s: S2, v: { s: S1 } },
            replaced: { s: S2, p: S1, v: [[], {}] },
            removed: { s: S1, p: S0 },
          },
        },
        // a tombstone: deleted, fields pruned
        { c: 'A.b-c_9', i: '1', a: S1, d: S2, f: {} },
        // never asserted (a delete seen before its put), nothing but a tombstone
        { c: '_', i: 'x'.repeat(256), a: null, d: S1, f: {} },
      ],
    } as unknown as Message,
    { type: 'ack', req: 1, cursor: 0 },
    { type: 'ack', req: U32, cursor: MAX },
    { type: 'changed', head: 0 },
    { type: 'changed', head: MAX },
    { type: 'error', req: 0, code: 'BAD_FRAME', message: '' },
    { type: 'error', req: U32, code: 'X'.repeat(64), message: 'é'.repeat(LIMITS.maxErrorMessage) },
    { type: 'error', req: 9, code: 'SOME_FUTURE_CODE_2', message: 'codes are not a closed set' },
    { type: 'bye', reason: '' },
    { type: 'bye', reason: '€'.repeat(200) },
  ];

  it('covers every message type', () => {
    expect(new Set(messages.map((m) => m.type))).toEqual(new Set(TYPES));
  });

  it.each(messages.map((m, i) => [`${i}: ${m.type}`, m] as const))(
    '%s survives encode then decode unchanged',
    (_label, message) => {
      const frame = encodeWire(message);
      expect(frame[3]).toBe(MESSAGE_TYPES[message.type]);
      const decoded = decodeFrame(frame);
      expect(decoded).toEqual(message);
      expect(hex(encodeWire(decoded))).toBe(hex(frame));
    },
  );

  it('decodes a frame that is a view into a larger buffer (byteOffset != 0)', () => {
    const frame = encodeMessage({ type: 'changed', head: 42 });
    const big = new Uint8Array(frame.length + 13);
    big.set(frame, 5);
    expect(decodeFrame(big.subarray(5, 5 + frame.length))).toEqual({ type: 'changed', head: 42 });
    expect(decodeFrame(Buffer.from(frame))).toEqual({ type: 'changed', head: 42 });
  });

  it('decoding does not touch the frame', () => {
    const frame = encodeMessage({ type: 'pull', req: 1, after: 2, rows: 3, bytes: 4 });
    const before = hex(frame);
    decodeFrame(frame);
    expect(hex(frame)).toBe(before);
  });
});

// ---- what JSON.parse lets through --------------------------------------------------------------

describe('JSON number and text edge cases (documented in PROTOCOL.md)', () => {
  it('1e400 parses as Infinity and is refused wherever it appears', () => {
    expectBadMessage('changed', { head: raw('1e400') }, 'changed.head');
    expectBadMessage('changed', { head: raw('-1e400') }, 'changed.head');
    const row = (v: unknown): unknown => ({
      ...BASE.changes,
      rows: [{ c: 'tasks', i: 't1', a: S1, d: null, f: { x: [v], y: [v, S1] } }],
    });
    expectBadMessage('changes', row(raw('1e400')), 'changes.rows[0].f.x[0]');
    expectBadMessage('changes', row(raw('-1e400')), 'changes.rows[0].f.x[0]');
    expectBadMessage('changes', row([1, raw('1e400')]), 'changes.rows[0].f.x[0][1]');
    expectBadMessage('changes', row({ k: { j: raw('1e999') } }), 'changes.rows[0].f.x[0].k.j');
  });

  it('NaN, Infinity and other non-JSON literals are not JSON: BAD_FRAME', () => {
    for (const literal of ['NaN', 'Infinity', '-Infinity', 'undefined', '0x10', '.5', '01']) {
      expectCode(frameOf('changed', { head: raw(literal) }), 'BAD_FRAME');
    }
  });

  it('integers may be written in any JSON number form that is exactly a safe integer', () => {
    expect(decodeFrame(frameOf('changed', { head: raw('1.0') }))).toEqual({
      type: 'changed',
      head: 1,
    });
    expect(decodeFrame(frameOf('changed', { head: raw('1e2') }))).toEqual({
      type: 'changed',
      head: 100,
    });
    expect(decodeFrame(frameOf('changed', { head: raw('4.2E1') }))).toEqual({
      type: 'changed',
      head: 42,
    });
    // -0 is an integer >= 0 to JavaScript: accepted, and re-encoded as 0.
    const minusZero = decodeFrame(frameOf('changed', { head: raw('-0') }));
    expect(Object.is((minusZero as { head: number }).head, -0)).toBe(true);
    expect(hex(encodeMessage(minusZero))).toBe(hex(encodeMessage({ type: 'changed', head: 0 })));
    // Not integers, or not safe ones.
    expectBadMessage('changed', { head: raw('1.5') }, 'changed.head');
    expectBadMessage('changed', { head: raw('9007199254740992') }, 'changed.head');
    expectBadMessage('changed', { head: raw('1e16') }, 'changed.head');
  });

  it('a duplicate key is not refused: the last one wins (as in JSON.parse)', () => {
    expect(decodeFrame(rawFrame(6, '{"head":1,"head":2}'))).toEqual({ type: 'changed', head: 2 });
  });

  it('whitespace around the JSON and one leading UTF-8 BOM are accepted', () => {
    expect(decodeFrame(rawFrame(6, ' \n\t{ "head" : 3 }\r\n'))).toEqual({
      type: 'changed',
      head: 3,
    });
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...utf8('{"head":3}')]);
    expect(decodeFrame(rawFrame(6, bom))).toEqual({ type: 'changed', head: 3 });
    const twoBoms = new Uint8Array([0xef, 0xbb, 0xbf, ...bom]);
    expectCode(rawFrame(6, twoBoms), 'BAD_FRAME');
  });

  it('lone UTF-16 surrogates are only possible as \\u escapes and are accepted in strings', () => {
    const body = `{"req":1,"push":true,"from":0,"to":1,"head":1,"more":false,"rows":[{"c":"t","i":"\\ud800","a":"${S1}","d":null,"f":{}}]}`;
    const decoded = decodeFrame(rawFrame(4, body)) as Extract<Message, { type: 'changes' }>;
    expect(decoded.rows[0]!.i).toBe('\ud800');
    // Raw UTF-8 for a surrogate (ed a0 80) is invalid UTF-8.
    expectCode(
      rawFrame(6, new Uint8Array([...utf8('{"head":1,"x":"'), 0xed, 0xa0, 0x80, ...utf8('"}')])),
      'BAD_FRAME',
    );
  });

  it('a __proto__ key never reaches a prototype', () => {
    const cases: Array<[number, string]> = [
      [6, '{"__proto__":{"polluted":1},"head":1}'],
      [
        4,
        `{"req":1,"push":true,"from":0,"to":1,"head":1,"more":false,"rows":[{"__proto__":{"polluted":1},"c":"t","i":"x","a":null,"d":null,"f":{}}]}`,
      ],
      [
        4,
        `{"req":1,"push":true,"from":0,"to":1,"head":1,"more":false,"rows":[{"c":"t","i":"x","a":null,"d":null,"f":{"x":[{"__proto__":{"polluted":1}},"${S1}"]}}]}`,
      ],
    ];
    for (const [type, body] of cases) expectCode(rawFrame(type, body), 'BAD_MESSAGE');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

// ---- frame-level refusals --------------------------------------------------------------------

describe('frame refusals', () => {
  const good = encodeMessage({ type: 'changed', head: 42 });

  it('FRAME_TOO_LARGE: larger than the 8 MiB default, header included', () => {
    const atLimit = rawFrame(
      6,
      `{"head":1}${' '.repeat(LIMITS.maxFrameBytes - HEADER_BYTES - 10)}`,
    );
    expect(atLimit.length).toBe(LIMITS.maxFrameBytes);
    expect(decodeFrame(atLimit)).toEqual({ type: 'changed', head: 1 });
    const over = rawFrame(6, `{"head":1}${' '.repeat(LIMITS.maxFrameBytes - HEADER_BYTES - 9)}`);
    const err = expectCode(over, 'FRAME_TOO_LARGE');
    expect(err.details).toEqual({ bytes: LIMITS.maxFrameBytes + 1, limit: LIMITS.maxFrameBytes });
  });

  it('FRAME_TOO_LARGE: larger than a caller-given limit; checked before anything else', () => {
    expect(decodeFrame(good, good.length)).toEqual({ type: 'changed', head: 42 });
    expectCode(good, 'FRAME_TOO_LARGE', good.length - 1);
    // Even garbage is "too large" first.
    expectCode(new Uint8Array(100), 'FRAME_TOO_LARGE', 99);
  });

  it('BAD_FRAME: not bytes', () => {
    for (const notBytes of [good.buffer, Array.from(good), 'MS', null, undefined, 42]) {
      expect(refusal(() => decodeFrame(notBytes as unknown as Uint8Array)).code).toBe('BAD_FRAME');
    }
  });

  it('BAD_FRAME: shorter than the 8-byte header', () => {
    for (let n = 0; n < HEADER_BYTES; n++) expectCode(good.slice(0, n), 'BAD_FRAME');
    // Exactly a header with an empty body: the header is fine, the (empty) body is not JSON.
    expectCode(rawFrame(6, ''), 'BAD_FRAME');
  });

  it('BAD_FRAME: bad magic', () => {
    for (const magic of [
      [0x4d, 0x54],
      [0x4e, 0x53],
      [0x53, 0x4d],
      [0x00, 0x00],
      [0xff, 0xff],
    ] as Array<[number, number]>) {
      expectCode(rawFrame(6, '{"head":1}', { magic }), 'BAD_FRAME');
    }
  });

  it('BAD_FRAME: body length does not match the frame', () => {
    for (const length of [0, 9, 11, 0xffffffff]) {
      const err = expectCode(rawFrame(6, '{"head":1}', { length }), 'BAD_FRAME');
      expect(err.details).toEqual({ length, actual: 10 });
    }
    // Truncated and extended frames.
    expectCode(good.slice(0, good.length - 1), 'BAD_FRAME');
    expectCode(new Uint8Array([...good, 0x20]), 'BAD_FRAME');
  });

  it('BAD_FRAME: body is not valid UTF-8', () => {
    const cases = [
      [0xff],
      [0xfe, 0xff],
      [0xc0, 0xaf], // overlong "/"
      [0xe0, 0x80, 0xaf], // overlong
      [0xed, 0xa0, 0x80], // UTF-16 surrogate
      [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
      [0xe2, 0x82], // truncated sequence
      [0x80], // lone continuation byte
    ];
    for (const bad of cases) {
      const body = new Uint8Array([...utf8('{"head":1,"x":"'), ...bad, ...utf8('"}')]);
      const err = expectCode(rawFrame(6, body), 'BAD_FRAME');
      expect(err.message).toContain('UTF-8 JSON');
    }
  });

  it('BAD_FRAME: body is not JSON', () => {
    for (const body of [
      '',
      ' ',
      '{',
      '{"head":1',
      '{"head":1}}',
      '{"head":1} x',
      "{'head':1}",
      '{head:1}',
      '{"head":1,}',
      '{"head":/*c*/1}',
      '{"head":1}\u0000',
      '"\u0001"', // raw control character in a string
    ]) {
      expectCode(rawFrame(6, body), 'BAD_FRAME');
    }
  });

  it('PROTOCOL_VERSION: frame format byte other than 1', () => {
    for (const format of [0, 2, 0x7f, 0xff]) {
      const err = expectCode(rawFrame(6, '{"head":1}', { format }), 'PROTOCOL_VERSION');
      expect(err.details).toEqual({ format });
    }
  });

  it('UNKNOWN_MESSAGE: type byte outside 1-8', () => {
    for (const type of [0, 9, 10, 0x80, 0xff]) {
      const err = expectCode(rawFrame(type, '{"head":1}'), 'UNKNOWN_MESSAGE');
      expect(err.details).toEqual({ type });
      expect(peekType(rawFrame(type, '{}'))).toBeUndefined();
    }
    expect(peekType(good.slice(0, 7))).toBeUndefined();
  });

  it('checks in order: size, magic and length, format, type, body length, UTF-8/JSON, schema', () => {
    // A frame that is wrong in every way reports the first check only.
    const all = rawFrame(0xff, new Uint8Array([0xff]), { magic: [0, 0], format: 9, length: 5 });
    expectCode(all, 'FRAME_TOO_LARGE', all.length - 1);
    expectCode(all, 'BAD_FRAME');
    expectCode(
      rawFrame(0xff, new Uint8Array([0xff]), { format: 9, length: 5 }),
      'PROTOCOL_VERSION',
    );
    expectCode(rawFrame(0xff, new Uint8Array([0xff]), { length: 5 }), 'UNKNOWN_MESSAGE');
    expectCode(rawFrame(6, new Uint8Array([0xff]), { length: 5 }), 'BAD_FRAME');
    expectCode(rawFrame(6, '{"head":-1}'), 'BAD_MESSAGE');
    // The body must match the type byte: a valid welcome body under the `changed` byte.
    const err = expectCode(rawFrame(6, '{"cursor":1}'), 'BAD_MESSAGE');
    expect(err.details?.path).toBe('changed.cursor');
  });
});

// ---- message refusals ------------------------------------------------------------------------

describe('BAD_MESSAGE: body shapes', () => {
  it.each(TYPES)('%s: a body that is not an object', (type) => {
    for (const body of ['[]', 'null', '1', '"x"', 'true', `[${bodyText(BASE[type])}]`]) {
      const err = expectCode(rawFrame(MESSAGE_TYPES[type], body), 'BAD_MESSAGE');
      expect(err.details?.path).toBe(type);
    }
  });

  it.each(TYPES)('%s: every required field missing in turn', (type) => {
    for (const field of Object.keys(BASE[type])) {
      expectBadMessage(type, withValue(BASE[type], field, MISSING), `${type}.${field}`);
    }
    // `{}` fails on the first field.
    expectCode(frameOf(type, {}), 'BAD_MESSAGE');
  });

  it.each(TYPES)('%s: an extra field, `type` or `__proto__` in the body', (type) => {
    expectBadMessage(type, { ...BASE[type], extra: 1 }, `${type}.extra`);
    expectBadMessage(type, { ...BASE[type], extra: undefined, x: null }, `${type}.x`);
    expectBadMessage(type, { type, ...BASE[type] }, `${type}.type`);
    const withProto = `{"__proto__":{},${bodyText(BASE[type]).slice(1)}`;
    const err = expectCode(rawFrame(MESSAGE_TYPES[type], withProto), 'BAD_MESSAGE');
    expect(err.details?.path).toBe(`${type}.__proto__`);
  });
});

describe('BAD_MESSAGE: wrong type of every field of every message', () => {
  const notInt = [null, true, '1', [], {}, [1], 1.5, raw('1e400')];
  const notBool = [null, 0, 1, 'true', [], {}];
  const notString = [null, 1, true, [], {}, ['x']];
  const notArray = [null, 'x', 1, true, {}];
  const notStamp = [null, 1, true, [], {}, ''];
  const fieldTypes: Array<[MessageType, string, unknown[]]> = [
    ['hello', 'min', notInt],
    ['hello', 'max', notInt],
    ['hello', 'device', notString],
    ['hello', 'epoch', notString],
    ['hello', 'caps', notArray],
    ['hello', 'caps.0', notString],
    ['hello', 'want', ['tasks', 1, true, {}]],
    ['hello', 'want.0', notString],
    ['hello', 'maxFrame', notInt],
    ['welcome', 'cursor', notInt],
    ['pull', 'req', notInt],
    ['pull', 'after', notInt],
    ['pull', 'rows', notInt],
    ['pull', 'bytes', notInt],
    ['changes', 'req', notInt],
    ['changes', 'push', notBool],
    ['changes', 'from', notInt],
    ['changes', 'to', notInt],
    ['changes', 'head', notInt],
    ['changes', 'more', notBool],
    ['changes', 'rows', notArray],
    ['changes', 'rows.0', [null, 1, 'x', true, [], [{}]]],
    ['changes', 'rows.0.c', notString],
    ['changes', 'rows.0.i', notString],
    ['changes', 'rows.0.a', [...notStamp.slice(1), undefined]], // null is valid for a and d
    ['changes', 'rows.0.d', [...notStamp.slice(1), undefined]],
    ['changes', 'rows.0.f', [null, 1, 'x', true, [], [{}]]],
    // A field is [v], [v, s], [v, s, p] or {s, p?}: anything else is refused as a whole.
    ['changes', 'rows.0.f.title', [null, 1, 'x', true, [], [1, S1, S1, S1]]],
    ['changes', 'rows.0.f.title.1', notStamp], // s of [v, s, p]
    ['changes', 'rows.0.f.title.2', notStamp], // p of [v, s, p]
    ['changes', 'rows.0.f.gone.s', [...notStamp, undefined]],
    ['changes', 'rows.0.f.gone.p', notStamp],
    ['ack', 'req', notInt],
    ['ack', 'cursor', notInt],
    ['changed', 'head', notInt],
    ['error', 'req', notInt],
    ['error', 'code', notString],
    ['error', 'message', notString],
    ['bye', 'reason', notString],
  ];

  it.each(
    fieldTypes.map(([type, path, values]) => [`${type}.${path}`, type, path, values] as const),
  )('%s', (_label, type, path, values) => {
    for (const value of values) {
      const body = withValue(BASE[type], path, value === undefined ? MISSING : value);
      expectBadMessage(type, body, wirePath(type, path));
    }
  });

  it('the base bodies themselves are valid', () => {
    for (const type of TYPES) expect(decodeFrame(frameOf(type, BASE[type])).type).toBe(type);
  });
});

describe('BAD_MESSAGE: out-of-range integers (each bound tested on both sides)', () => {
  const U32 = 0xffffffff;
  const SAFE = Number.MAX_SAFE_INTEGER;
  const bounds: Array<[MessageType, string, number, number]> = [
    ['hello', 'min', 1, 0xffff],
    ['hello', 'max', 1, 0xffff],
    ['hello', 'maxFrame', 64 * 1024, U32],
    ['welcome', 'cursor', 0, SAFE],
    ['pull', 'req', 1, U32],
    ['pull', 'after', 0, SAFE],
    ['pull', 'rows', 1, LIMITS.maxPageRows],
    ['pull', 'bytes', 1, U32],
    ['changes', 'req', 1, U32],
    ['ack', 'req', 1, U32],
    ['ack', 'cursor', 0, SAFE],
    ['changed', 'head', 0, SAFE],
    ['error', 'req', 0, U32],
  ];

  it.each(
    bounds.map(
      ([type, field, lo, hi]) =>
        [`${type}.${field} in [${lo}, ${hi}]`, type, field, lo, hi] as const,
    ),
  )('%s', (_label, type, field, lo, hi) => {
    // hello.min may not exceed hello.max: test min's range with the largest max.
    const base = { ...BASE[type], ...(type === 'hello' && field === 'min' ? { max: 0xffff } : {}) };
    expect(decodeFrame(frameOf(type, { ...base, [field]: lo }))).toMatchObject({ [field]: lo });
    expect(decodeFrame(frameOf(type, { ...base, [field]: hi }))).toMatchObject({ [field]: hi });
    expectBadMessage(type, { ...base, [field]: lo - 1 }, `${type}.${field}`);
    // SAFE + 1 is 2^53: not a safe integer, refused even where the bound is higher.
    expectBadMessage(type, { ...base, [field]: hi + 1 }, `${type}.${field}`);
  });

  it('changes: from, to and head are seqs in [0, 2^53 - 1]', () => {
    const page = { ...BASE.changes, rows: [] };
    expect(decodeFrame(frameOf('changes', { ...page, from: 0, to: 0, head: 0 }))).toMatchObject({
      from: 0,
    });
    expect(
      decodeFrame(frameOf('changes', { ...page, from: SAFE, to: SAFE, head: SAFE })),
    ).toMatchObject({ head: SAFE });
    expectBadMessage('changes', { ...page, from: -1 }, 'changes.from');
    expectBadMessage('changes', { ...page, to: -1 }, 'changes.to');
    expectBadMessage('changes', { ...page, head: -1 }, 'changes.head');
    expectBadMessage('changes', { ...page, head: SAFE + 1 }, 'changes.head');
  });

  it('changes: to < from and head < to are refused', () => {
    const page = { ...BASE.changes };
    expectBadMessage('changes', { ...page, from: 11, to: 10, head: 11 }, 'changes.to');
    expectBadMessage('changes', { ...page, from: 10, to: 11, head: 10 }, 'changes.head');
    expectBadMessage('changes', { ...page, from: 1, to: 0, head: 0 }, 'changes.to');
    // Equal is fine: an empty range, and a page that reaches the head.
    expect(decodeFrame(frameOf('changes', { ...page, from: 10, to: 10, head: 10 }))).toMatchObject({
      from: 10,
      to: 10,
      head: 10,
    });
  });

  it('hello: min > max is refused by the decoder', () => {
    expectBadMessage('hello', { ...BASE.hello, min: 3, max: 2 }, 'hello.min');
    expect(decodeFrame(frameOf('hello', { ...BASE.hello, min: 2, max: 2 }))).toMatchObject({
      min: 2,
    });
  });
});

describe('BAD_MESSAGE: strings, ids, names and stamps', () => {
  const ok = (type: MessageType, body: unknown): void => {
    expect(decodeFrame(frameOf(type, body)).type).toBe(type);
  };

  it('hello.device: 4-64 of [A-Za-z0-9_-]', () => {
    for (const device of ['abcd', 'A_b-9', 'x'.repeat(64)]) ok('hello', { ...BASE.hello, device });
    for (const device of ['abc', 'x'.repeat(65), 'dev A1', 'dév1', 'dev.1', 'dev/1', ''])
      expectBadMessage('hello', { ...BASE.hello, device }, 'hello.device');
  });

  it('hello.epoch: 8-64 of [A-Za-z0-9_-]', () => {
    for (const epoch of ['12345678', 'A-_b'.repeat(16)]) ok('hello', { ...BASE.hello, epoch });
    for (const epoch of ['1234567', 'x'.repeat(65), 'abc defgh', 'abcdefgh\n', 'abcdefgh.'])
      expectBadMessage('hello', { ...BASE.hello, epoch }, 'hello.epoch');
  });

  it('hello.caps: at most 32 names of 1-32 of [a-z0-9:._-]', () => {
    ok('hello', { ...BASE.hello, caps: Array.from({ length: 32 }, () => 'a'.repeat(32)) });
    expectBadMessage(
      'hello',
      { ...BASE.hello, caps: Array.from({ length: 33 }, () => 'a') },
      'hello.caps',
    );
    for (const cap of ['', 'A', 'a b', 'a'.repeat(33), 'ü'])
      expectBadMessage('hello', { ...BASE.hello, caps: ['ok', cap] }, 'hello.caps[1]');
  });

  it('hello.want: null or at most 256 collection names; duplicates and [] are allowed', () => {
    ok('hello', { ...BASE.hello, want: null });
    ok('hello', { ...BASE.hello, want: [] });
    ok('hello', { ...BASE.hello, want: ['a', 'a'] });
    ok('hello', { ...BASE.hello, want: Array.from({ length: 256 }, (_, i) => `c${i}`) });
    expectBadMessage(
      'hello',
      { ...BASE.hello, want: Array.from({ length: 257 }, (_, i) => `c${i}`) },
      'hello.want',
    );
    expectBadMessage('hello', { ...BASE.hello, want: ['ok', 'no way'] }, 'hello.want[1]');
  });

  it('collection names: 1-64 chars, [A-Za-z0-9_] then [A-Za-z0-9_.-]', () => {
    const row = (c: unknown): unknown => withValue(BASE.changes, 'rows.0.c', c);
    for (const c of ['a', '_', '9', 'A.b-c_d', 'x'.repeat(64)]) ok('changes', row(c));
    for (const c of ['', '.a', '-a', 'x'.repeat(65), 'a b', 'a/b', 'a,b', 'ä', '*', 'a\n'])
      expectBadMessage('changes', row(c), 'changes.rows[0].c');
    expectBadMessage('hello', { ...BASE.hello, want: ['.hidden'] }, 'hello.want[0]');
  });

  it('record ids: 1-256 UTF-16 units, no C0 control characters or DEL', () => {
    const row = (i: unknown): unknown => withValue(BASE.changes, 'rows.0.i', i);
    for (const i of ['x', 'x'.repeat(256), 'a b/c', 'ü', '😀'.repeat(128), '\u0080', '\u2028'])
      ok('changes', row(i));
    for (const i of ['', 'x'.repeat(257), '😀'.repeat(129), 'a\u0000', 'a\n', 'a\u001f', 'a\u007f'])
      expectBadMessage('changes', row(i), 'changes.rows[0].i');
  });

  it('field names: 1-128 UTF-16 units, no control characters, not a prototype key', () => {
    const withField = (name: string): string =>
      bodyText(BASE.changes).replace('"title":', `${JSON.stringify(name)}:`);
    for (const name of ['x', 'x'.repeat(128), 'with space', '😀', '$', 'proto', '__proto'])
      expect(decodeFrame(rawFrame(4, withField(name))).type).toBe('changes');
    for (const name of [
      '',
      'x'.repeat(129),
      'a\u0000',
      'a\t',
      'a\u007f',
      'constructor',
      'prototype',
    ]) {
      const err = expectCode(rawFrame(4, withField(name)), 'BAD_MESSAGE');
      expect(err.details?.path).toBe(`changes.rows[0].f.${name.slice(0, 40)}`);
    }
    const err = expectCode(rawFrame(4, withField('__proto__')), 'BAD_MESSAGE');
    expect(err.details?.path).toBe('changes.rows[0].f.__proto__');
  });

  it('rows: at most 1024 fields, at most 10,000 rows', () => {
    const fields = (n: number): Record<string, unknown> =>
      Object.fromEntries(Array.from({ length: n }, (_, k) => [`f${k}`, [k]]));
    ok('changes', withValue(BASE.changes, 'rows.0.f', fields(1024)));
    expectBadMessage(
      'changes',
      withValue(BASE.changes, 'rows.0.f', fields(1025)),
      'changes.rows[0].f',
    );
    const row = { c: 'c', i: 'i', a: S1, d: null, f: {} };
    ok('changes', { ...BASE.changes, rows: Array.from({ length: 10_000 }, () => row) });
    expectBadMessage(
      'changes',
      { ...BASE.changes, rows: Array.from({ length: 10_001 }, () => row) },
      'changes.rows',
    );
  });

  it('rows and removed fields: extra keys are refused', () => {
    expectBadMessage('changes', withValue(BASE.changes, 'rows.0.x', 1), 'changes.rows[0].x');
    expectBadMessage(
      'changes',
      withValue(BASE.changes, 'rows.0.f.gone.x', 1),
      'changes.rows[0].f.gone.x',
    );
    // The stored form {s, p, v} is not a wire form: `v` is an unknown key of a removed field.
    expectBadMessage(
      'changes',
      withValue(BASE.changes, 'rows.0.f.gone.v', 1),
      'changes.rows[0].f.gone.v',
    );
    const proto = bodyText(BASE.changes).replace('{"c":', '{"__proto__":1,"c":');
    expect(expectCode(rawFrame(4, proto), 'BAD_MESSAGE').details?.path).toBe(
      'changes.rows[0].__proto__',
    );
    const protoField = bodyText(BASE.changes).replace('{"s":', '{"__proto__":1,"s":');
    expect(expectCode(rawFrame(4, protoField), 'BAD_MESSAGE').details?.path).toBe(
      'changes.rows[0].f.gone.__proto__',
    );
  });

  it('the wire forms of a field, and what they decode to', () => {
    const page = (a: string | null, f: Record<string, unknown>): unknown => ({
      ...BASE.changes,
      rows: [{ c: 'tasks', i: 't1', a, d: null, f }],
    });
    const decoded = decodeFrame(
      frameOf(
        'changes',
        page(S2, {
          atA: ['v'], // written at `a`
          nul: [null], // the value null, not a removal
          own: [1, S1], // written at its own stamp
          replaced: [{ x: 1 }, S2, S0], // and the stamp of the value it replaced
          removed: { s: S1 }, // removed at s
          removedAfter: { s: S2, p: S1 }, // removed at s, replacing the value written at p
        }),
      ),
    ) as Extract<Message, { type: 'changes' }>;
    expect(decoded.rows[0]!.f).toEqual({
      atA: { s: S2, v: 'v' },
      nul: { s: S2, v: null },
      own: { s: S1, v: 1 },
      replaced: { s: S2, p: S0, v: { x: 1 } },
      removed: { s: S1 },
      removedAfter: { s: S2, p: S1 },
    });
    expect(Object.hasOwn(decoded.rows[0]!.f.removed!, 'v')).toBe(false);
    expect(Object.hasOwn(decoded.rows[0]!.f.nul!, 'v')).toBe(true);
    // [v] needs a row stamp `a` to stand for.
    expectBadMessage('changes', page(null, { x: ['v'] }), 'changes.rows[0].f.x');
    expect(decodeFrame(frameOf('changes', page(null, { x: ['v', S1] }))).type).toBe('changes');
    // Arrays of 0 or 4+ items, scalars and null are not fields; {} lacks s.
    for (const bad of [[], [1, S1, S1, S1], 1, 'v', null, true]) {
      expectBadMessage('changes', page(S2, { x: bad }), 'changes.rows[0].f.x');
    }
    expectBadMessage('changes', page(S2, { x: {} }), 'changes.rows[0].f.x.s');
    expectBadMessage('changes', page(S2, { x: { p: S1 } }), 'changes.rows[0].f.x.s');
    expectBadMessage('changes', page(S2, { x: { s: S1, p: null } }), 'changes.rows[0].f.x.p');
    expectBadMessage('changes', page(S2, { x: [1, null] }), 'changes.rows[0].f.x[1]');
    expectBadMessage('changes', page(S2, { x: [1, S1, null] }), 'changes.rows[0].f.x[2]');
  });

  it('field values: any JSON at most 32 containers deep, no __proto__ keys, finite numbers', () => {
    const value = (v: unknown): unknown => withValue(BASE.changes, 'rows.0.f.title.0', v);
    const nest = (n: number, inner: unknown): unknown => {
      let v = inner;
      for (let k = 0; k < n; k++) v = k % 2 === 0 ? [v] : { k: v };
      return v;
    };
    ok('changes', value(nest(32, 1))); // 32 containers around a scalar
    ok('changes', value(nest(31, []))); // 32 containers, the innermost empty
    expectCode(frameOf('changes', value(nest(33, 1))), 'BAD_MESSAGE');
    expectCode(frameOf('changes', value(nest(32, []))), 'BAD_MESSAGE');
    expectCode(frameOf('changes', value(nest(32, {}))), 'BAD_MESSAGE');
    // A very deep body does not overflow anything: it is refused like any other.
    const deep = bodyText(value('DEEP')).replace(
      '"DEEP"',
      `${'['.repeat(200_000)}${']'.repeat(200_000)}`,
    );
    expectCode(rawFrame(4, deep), 'BAD_MESSAGE');
    const protoValue = bodyText(value({ ok: 1 })).replace('{"ok":1}', '{"ok":{"__proto__":{}}}');
    expect(expectCode(rawFrame(4, protoValue), 'BAD_MESSAGE').details?.path).toBe(
      'changes.rows[0].f.title[0].ok.__proto__',
    );
    // `constructor` and `prototype` are fine inside values (only field names forbid them).
    ok('changes', value({ constructor: 1, prototype: { x: 1 } }));
  });

  it('stamps: 13 base36 digits (lowercase) then a device id', () => {
    const stampAt = (path: string, s: unknown): unknown => withValue(BASE.changes, path, s);
    const NEWEST = 'zzzzzzzzzzzzz' + 'z'.repeat(64);
    const OLDEST = '0000000000000AAAA';
    const good = [
      '0000000000000abcd',
      'zzzzzzzzzzzzz' + 'x'.repeat(64),
      '0loyw3v280000A_b-',
      '0000000000000dev_x',
    ];
    const bad = [
      'ABCDEFGHIJKLMdevA1', // uppercase digits
      '0loyw3v280000abc', // device of 3
      '0loyw3v280000' + 'x'.repeat(65), // device of 65
      '0loyw3v280000dev A1',
      '0loyw3v280000dev.1',
      ' 0loyw3v280000devA1',
      '0loyw3v280000devA1\n',
      '0loyw3v2-0000devA1',
      '',
      'devA1',
    ];
    for (const path of [
      'rows.0.a',
      'rows.0.d',
      'rows.0.f.title.1',
      'rows.0.f.title.2',
      'rows.0.f.gone.s',
      'rows.0.f.gone.p',
    ]) {
      // A `p` must be older than its `s`: give the write the newest stamp when testing p.
      // ...and the oldest stamp to the `p` of an `s` under test.
      const sPath = {
        'rows.0.f.title.2': 'rows.0.f.title.1',
        'rows.0.f.gone.p': 'rows.0.f.gone.s',
      }[path];
      const pPath = {
        'rows.0.f.title.1': 'rows.0.f.title.2',
        'rows.0.f.gone.s': 'rows.0.f.gone.p',
      }[path];
      const base =
        sPath !== undefined
          ? withValue(BASE.changes, sPath, NEWEST)
          : pPath !== undefined
            ? withValue(BASE.changes, pPath, OLDEST)
            : BASE.changes;
      for (const s of good) ok('changes', withValue(base, path, s));
      for (const s of bad) {
        expectBadMessage('changes', withValue(base, path, s), wirePath('changes', path));
      }
    }
    // p not older than s: refused.
    for (const [sPath, pPath] of [
      ['rows.0.f.title.1', 'rows.0.f.title.2'],
      ['rows.0.f.gone.s', 'rows.0.f.gone.p'],
    ] as const) {
      const same = withValue(
        withValue(BASE.changes, sPath, '0loyw3v280000devA1'),
        pPath,
        '0loyw3v280000devA1',
      );
      expectBadMessage('changes', same, wirePath('changes', pPath));
      const newer = withValue(
        withValue(BASE.changes, sPath, '0loyw3v280000devA1'),
        pPath,
        '0loyw3v290000devA1',
      );
      expectBadMessage('changes', newer, wirePath('changes', pPath));
    }
    // 12 digits then "devA1" is the 13-digit prefix "0loyw3v28000d" and device "evA1": valid.
    ok('changes', stampAt('rows.0.a', '0loyw3v28000devA1'));
    // a and d may be null; s and p may not (see the table above).
    ok('changes', stampAt('rows.0.a', null));
    ok('changes', stampAt('rows.0.d', null));
  });

  it('error.code: 1-64 of [A-Z0-9_]; error.message: at most 500; bye.reason: at most 200', () => {
    for (const code of ['', 'lower', 'A-B', 'A B', 'X'.repeat(65)])
      expectBadMessage('error', { ...BASE.error, code }, 'error.code');
    expectBadMessage('error', { ...BASE.error, message: 'x'.repeat(501) }, 'error.message');
    expectBadMessage('bye', { reason: 'x'.repeat(201) }, 'bye.reason');
    // Lengths are UTF-16 units: 200 emoji are 400 units.
    expectBadMessage('bye', { reason: '😀'.repeat(101) }, 'bye.reason');
    ok('bye', { reason: '😀'.repeat(100) });
    ok('error', { ...BASE.error, message: 'x'.repeat(500) });
  });
});

describe('peekPageHead: the head of an answered page, before decoding (a hint only)', () => {
  const head = { req: 7, push: false, from: 10, to: 4010, head: 9000, more: true };

  it('reads req, from, to and more from a page as the engine writes it', () => {
    const frame = encodeChangesFrame(head, ['{"c":"t","i":"x","a":null,"d":null,"f":{}}']);
    expect(peekPageHead(frame)).toEqual({ req: 7, from: 10, to: 4010, more: true });
    expect(peekPageHead(encodeChangesFrame({ ...head, more: false }, []))).toMatchObject({
      more: false,
    });
  });

  it('nothing for pushed pages, other messages, other key orders or cut frames', () => {
    expect(peekPageHead(encodeChangesFrame({ ...head, push: true }, []))).toBeUndefined();
    expect(peekPageHead(encodeMessage({ type: 'changed', head: 5 }))).toBeUndefined();
    const reordered = `{"from":10,"req":7,"push":false,"to":4010,"head":9000,"more":true,"rows":[]}`;
    expect(peekPageHead(encodeFrame('changes', reordered))).toBeUndefined();
    const whole = encodeChangesFrame(head, []);
    expect(peekPageHead(whole.subarray(0, 30))).toBeUndefined();
    expect(peekPageHead(whole.subarray(0, 4))).toBeUndefined();
  });

  it('nothing for values no valid page holds (beyond 2^53 - 1, or to < from)', () => {
    const text = (from: string, to: string): Uint8Array =>
      encodeFrame(
        'changes',
        `{"req":1,"push":false,"from":${from},"to":${to},"head":1,"more":true,"rows":[]}`,
      );
    expect(peekPageHead(text('10', '9007199254740992'))).toBeUndefined();
    expect(peekPageHead(text('9007199254740992', '9007199254740993'))).toBeUndefined();
    expect(peekPageHead(text('10', '9'))).toBeUndefined();
    expect(peekPageHead(text('0', '9007199254740991'))).toMatchObject({ to: 9007199254740991 });
  });
});
