import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromBase64url, toBase64url } from '../../shared/crypto/bytes.js';
import type { DeviceId } from '../../shared/ids.js';
import {
  MAX_SEALED_CHARS,
  MAX_TEXT_MESSAGE,
  encodeMessage,
  parseClientMessage,
  parseServerMessage,
  type ClientMessage,
  type ServerMessage,
} from '../../shared/signaling/messages.js';
import {
  RELAY_HEADER_BYTES,
  RELAY_KIND,
  decodeRelayFrame,
  encodeRelayFrame,
  stampRelayFrame,
} from '../../shared/signaling/relay-frame.js';
import { TokenBucket } from '../../shared/signaling/token-bucket.js';
import { codeOf } from '../support/codes.js';

const ROOM = toBase64url(new Uint8Array(32).fill(7));
const ALICE = 'abcdefghijklmnop' as DeviceId;
const BOB = 'qrstuvwxyz234567' as DeviceId;
const B64_43 = 'A'.repeat(43);
const B64_86 = 'B'.repeat(86);
const client = (m: unknown) => codeOf(() => parseClientMessage(JSON.stringify(m)));
const server = (m: unknown) => codeOf(() => parseServerMessage(JSON.stringify(m)));
const device = fc
  .array(fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz234567'), { minLength: 16, maxLength: 16 })
  .map((a) => a.join('') as DeviceId);

describe('parseClientMessage', () => {
  const valid: ClientMessage[] = [
    { t: 'join', room: ROOM, key: B64_43, proof: B64_86, sig: B64_86 },
    { t: 'leave', room: ROOM },
    { t: 'signal', room: ROOM, to: BOB, data: 'x-_Y' },
    { t: 'signal', room: ROOM, to: BOB, data: 'A'.repeat(MAX_SEALED_CHARS) },
  ];

  it('accepts each valid message as it was encoded', () => {
    for (const m of valid) expect(parseClientMessage(encodeMessage(m))).toEqual(m);
  });

  it('refuses what is not a message: BAD_MESSAGE, FRAME_TOO_LARGE, UNKNOWN_MESSAGE', () => {
    expect(codeOf(() => parseClientMessage(new Uint8Array(3)))).toBe('BAD_MESSAGE');
    expect(codeOf(() => parseClientMessage(undefined))).toBe('BAD_MESSAGE');
    expect(codeOf(() => parseClientMessage('{'))).toBe('BAD_MESSAGE');
    expect(codeOf(() => parseClientMessage(''))).toBe('BAD_MESSAGE');
    expect(client(null)).toBe('BAD_MESSAGE');
    expect(client([{ t: 'leave', room: ROOM }])).toBe('BAD_MESSAGE');
    expect(client('leave')).toBe('BAD_MESSAGE');
    expect(codeOf(() => parseClientMessage(' '.repeat(MAX_TEXT_MESSAGE + 1)))).toBe(
      'FRAME_TOO_LARGE',
    );
    // Just at the maximum it is parsed (and refused for what it is, not its size).
    expect(codeOf(() => parseClientMessage(' '.repeat(MAX_TEXT_MESSAGE)))).toBe('BAD_MESSAGE');
    for (const t of [undefined, 1, null, 'nope', 'hello', 'joined', 'toString', '__proto__']) {
      expect([t, client({ t })]).toEqual([t, 'UNKNOWN_MESSAGE']);
    }
  });

  it('refuses each field out of shape, and any extra field', () => {
    const bad: unknown[] = [
      { t: 'leave' },
      { t: 'leave', room: ROOM, extra: 1 },
      { t: 'leave', room: ROOM.slice(1) },
      { t: 'leave', room: ROOM.slice(1) + '+' },
      { t: 'leave', room: 5 },
      { t: 'join', room: ROOM, key: B64_43, proof: B64_86 },
      { t: 'join', room: ROOM, key: B64_43 + 'A', proof: B64_86, sig: B64_86 },
      { t: 'join', room: ROOM, key: B64_43, proof: B64_86.slice(1) + '=', sig: B64_86 },
      { t: 'signal', room: ROOM, to: 'ABCDEFGHIJKLMNOP', data: 'AA' },
      { t: 'signal', room: ROOM, to: 'abcdefghijklmno1', data: 'AA' },
      { t: 'signal', room: ROOM, to: BOB, data: '' },
      { t: 'signal', room: ROOM, to: BOB, data: 'A'.repeat(MAX_SEALED_CHARS + 1) },
      { t: 'signal', room: ROOM, to: BOB, data: 'AA', from: ALICE },
    ];
    for (const m of bad) expect([m, client(m)]).toEqual([m, 'BAD_MESSAGE']);
  });

  it('round-trips any valid message (property)', () => {
    const b64 = (n: number) =>
      fc
        .array(
          fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'),
          {
            minLength: n,
            maxLength: n,
          },
        )
        .map((a) => a.join(''));
    const message: fc.Arbitrary<ClientMessage> = fc.oneof(
      fc.record({
        t: fc.constant('join' as const),
        room: b64(43),
        key: b64(43),
        proof: b64(86),
        sig: b64(86),
      }),
      fc.record({ t: fc.constant('leave' as const), room: b64(43) }),
      fc.record({
        t: fc.constant('signal' as const),
        room: b64(43),
        to: device,
        data: fc.integer({ min: 1, max: 200 }).chain(b64),
      }),
    );
    fc.assert(
      fc.property(message, (m) => {
        expect(parseClientMessage(encodeMessage(m))).toEqual(m);
      }),
      { numRuns: 300, seed: 7 },
    );
  });
});

describe('parseServerMessage', () => {
  const limits = {
    maxPayloadBytes: 65536,
    messagesPerSecond: 100,
    bytesPerSecond: 4_194_304,
    maxRoomsPerConnection: 8,
    maxMembersPerRoom: 64,
  };
  const valid: ServerMessage[] = [
    { t: 'hello', v: 1, challenge: B64_43, heartbeatMs: 30_000, limits },
    { t: 'joined', room: ROOM, self: ALICE, members: [BOB] },
    { t: 'joined', room: ROOM, self: ALICE, members: [] },
    { t: 'left', room: ROOM, reason: 'left' },
    { t: 'online', room: ROOM, device: BOB },
    { t: 'offline', room: ROOM, device: BOB },
    { t: 'signal', room: ROOM, from: BOB, data: 'AAAA' },
    { t: 'error', code: 'NOT_FOUND', message: 'no such device', room: ROOM, to: BOB },
    { t: 'error', code: 'BAD_MESSAGE', message: 'x' },
    { t: 'shutdown', retryMs: 1000 },
  ];

  it('accepts each valid message as it was encoded', () => {
    for (const m of valid) expect(parseServerMessage(encodeMessage(m))).toEqual(m);
  });

  it('maps an error code it does not know to REMOTE_ERROR', () => {
    const m = parseServerMessage('{"t":"error","code":"FROM_THE_FUTURE","message":"?"}');
    expect(m).toEqual({ t: 'error', code: 'REMOTE_ERROR', message: '?' });
  });

  it('refuses messages out of shape, and client kinds', () => {
    const bad: [unknown, string][] = [
      [
        {
          t: 'hello',
          v: 1,
          challenge: B64_43,
          heartbeatMs: 30_000,
          limits: { ...limits, messagesPerSecond: 2.5 },
        },
        'BAD_MESSAGE',
      ],
      [{ t: 'hello', v: 1, challenge: B64_43, heartbeatMs: 0, limits }, 'BAD_MESSAGE'],
      [
        { t: 'hello', v: 1, challenge: B64_43, heartbeatMs: 1, limits: { ...limits, extra: 1 } },
        'BAD_MESSAGE',
      ],
      [{ t: 'joined', room: ROOM, self: ALICE, members: ['BOB'] }, 'BAD_MESSAGE'],
      [{ t: 'signal', room: ROOM, from: 'x', data: 'AAAA' }, 'BAD_MESSAGE'],
      [{ t: 'error', code: 'NOT_FOUND', message: 'm'.repeat(601) }, 'BAD_MESSAGE'],
      [{ t: 'error', code: 'NOT_FOUND', message: 'm', room: 'short' }, 'BAD_MESSAGE'],
      [{ t: 'left', room: ROOM, reason: 'r'.repeat(201) }, 'BAD_MESSAGE'],
      [{ t: 'shutdown', retryMs: 3_600_001 }, 'BAD_MESSAGE'],
      [{ t: 'shutdown', retryMs: -1 }, 'BAD_MESSAGE'],
      [{ t: 'leave', room: ROOM }, 'UNKNOWN_MESSAGE'],
      [{ t: 'join', room: ROOM, key: B64_43, proof: B64_86, sig: B64_86 }, 'UNKNOWN_MESSAGE'],
    ];
    for (const [m, code] of bad) expect([m, server(m)]).toEqual([m, code]);
  });
});

describe('relay frames', () => {
  it('lays out kind, room key, device, payload; and decodes back', () => {
    const payload = new Uint8Array([9, 8, 7]);
    const bytes = encodeRelayFrame(ROOM, BOB, payload);
    expect(bytes.length).toBe(RELAY_HEADER_BYTES + 3);
    expect(bytes[0]).toBe(RELAY_KIND);
    expect(bytes.subarray(1, 33)).toEqual(fromBase64url(ROOM));
    expect(Buffer.from(bytes.subarray(33, 49)).toString('latin1')).toBe(BOB);
    const frame = decodeRelayFrame(bytes);
    expect(frame.room).toBe(ROOM);
    expect(frame.device).toBe(BOB);
    expect(frame.payload).toEqual(payload);
    // The payload is a view into the frame, not a copy.
    expect(frame.payload.buffer).toBe(bytes.buffer);
  });

  it('stamping rewrites the device field only', () => {
    const bytes = encodeRelayFrame(ROOM, BOB, new Uint8Array([1, 2]));
    const before = Uint8Array.from(bytes);
    stampRelayFrame(bytes, ALICE);
    expect(decodeRelayFrame(bytes)).toMatchObject({ room: ROOM, device: ALICE });
    expect(bytes.subarray(0, 33)).toEqual(before.subarray(0, 33));
    expect(bytes.subarray(49)).toEqual(before.subarray(49));
  });

  it('decoding refuses what is not a relay frame with BAD_FRAME', () => {
    const good = encodeRelayFrame(ROOM, BOB, new Uint8Array(0));
    expect(codeOf(() => decodeRelayFrame(good))).toBe('ok');
    expect(codeOf(() => decodeRelayFrame(good.subarray(0, RELAY_HEADER_BYTES - 1)))).toBe(
      'BAD_FRAME',
    );
    expect(codeOf(() => decodeRelayFrame(new Uint8Array(0)))).toBe('BAD_FRAME');
    const kind = Uint8Array.from(good);
    kind[0] = 2;
    expect(codeOf(() => decodeRelayFrame(kind))).toBe('BAD_FRAME');
    for (const ch of ['A', '1', '!', '\u00ff']) {
      const device = Uint8Array.from(good);
      device[40] = ch.charCodeAt(0);
      expect([ch, codeOf(() => decodeRelayFrame(device))]).toEqual([ch, 'BAD_FRAME']);
    }
  });

  it('encoding refuses a bad room or device with INVALID_VALUE', () => {
    const p = new Uint8Array(1);
    expect(codeOf(() => encodeRelayFrame('short', BOB, p))).toBe('INVALID_VALUE');
    expect(codeOf(() => encodeRelayFrame(toBase64url(new Uint8Array(31)), BOB, p))).toBe(
      'INVALID_VALUE',
    );
    expect(codeOf(() => encodeRelayFrame(ROOM, 'ABCDEFGHIJKLMNOP' as DeviceId, p))).toBe(
      'INVALID_VALUE',
    );
    expect(codeOf(() => encodeRelayFrame(ROOM, 'abc' as DeviceId, p))).toBe('INVALID_VALUE');
  });

  it('round-trips any room, device and payload (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        device,
        fc.uint8Array(),
        (key, d, p) => {
          const room = toBase64url(key);
          const frame = decodeRelayFrame(encodeRelayFrame(room, d, p));
          expect([frame.room, frame.device, Buffer.from(frame.payload)]).toEqual([
            room,
            d,
            Buffer.from(p),
          ]);
        },
      ),
      { numRuns: 200, seed: 11 },
    );
  });
});

describe('TokenBucket', () => {
  it('starts full at the burst and refuses without taking when short', () => {
    const bucket = new TokenBucket(10, 20, 0);
    expect(bucket.take(15, 0)).toBe(true);
    expect(bucket.take(6, 0)).toBe(false); // 5 left: refused, and nothing taken
    expect(bucket.take(5, 0)).toBe(true);
    expect(bucket.take(1, 0)).toBe(false);
  });

  it('refills at the rate, up to the burst', () => {
    const bucket = new TokenBucket(10, 20, 1000);
    expect(bucket.take(20, 1000)).toBe(true);
    expect(bucket.take(1, 1050)).toBe(false); // half a token
    expect(bucket.take(1, 1100)).toBe(true); // one token after 100 ms
    expect(bucket.take(2, 1100)).toBe(false);
    // A long pause refills to the burst, not beyond.
    expect(bucket.take(20, 60_000)).toBe(true);
    expect(bucket.take(1, 60_000)).toBe(false);
  });

  it('waitMs tells how long until a cost fits', () => {
    const bucket = new TokenBucket(4, 8, 0);
    expect(bucket.waitMs(8, 0)).toBe(0);
    bucket.take(8, 0);
    expect(bucket.waitMs(1, 0)).toBe(250);
    expect(bucket.waitMs(2, 100)).toBe(400);
    expect(bucket.waitMs(2, 500)).toBe(0);
    expect(bucket.take(2, 500)).toBe(true);
  });

  it('a clock that goes back neither refills nor breaks the bucket', () => {
    const bucket = new TokenBucket(10, 10, 5000);
    expect(bucket.take(10, 5000)).toBe(true);
    expect(bucket.take(1, 1000)).toBe(false);
    expect(bucket.take(1, 5000)).toBe(false);
    expect(bucket.take(1, 5100)).toBe(true);
  });
});
