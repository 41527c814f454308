import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../shared/errors.js';
import { CLOSE_CODES, MAX_TEXT_MESSAGE } from '../../shared/signaling/messages.js';
import { encodeRelayFrame, RELAY_HEADER_BYTES } from '../../shared/signaling/relay-frame.js';
import {
  newIdentity,
  newRoom,
  random,
  signalingHarness,
  type RawClient,
} from '../support/signaling-raw.js';

const h = signalingHarness();
const room = newRoom();
const device = newIdentity().device;
const join = (c: RawClient) => c.joinMessage(room, newIdentity());

type Input = string | Uint8Array | ((c: RawClient) => unknown);
const CASES: [string, Input, ErrorCode][] = [
  ['not JSON', '{"t":"leave",', 'BAD_MESSAGE'],
  ['empty text', '', 'BAD_MESSAGE'],
  ['a JSON string', '"leave"', 'BAD_MESSAGE'],
  ['null', 'null', 'BAD_MESSAGE'],
  ['an array', `[{"t":"leave","room":"${room.roomId}"}]`, 'BAD_MESSAGE'],
  ['unclosed nesting', '['.repeat(50_000).slice(0, MAX_TEXT_MESSAGE), 'BAD_MESSAGE'],
  ['deep nesting', '['.repeat(10_000) + ']'.repeat(10_000), 'BAD_MESSAGE'],
  ['no kind', '{}', 'UNKNOWN_MESSAGE'],
  ['a number kind', '{"t":1}', 'UNKNOWN_MESSAGE'],
  ['an unknown kind', '{"t":"subscribe"}', 'UNKNOWN_MESSAGE'],
  ['a server kind', '{"t":"shutdown","retryMs":5}', 'UNKNOWN_MESSAGE'],
  ['an inherited name as kind', '{"t":"__proto__"}', 'UNKNOWN_MESSAGE'],
  ['constructor as kind', '{"t":"constructor"}', 'UNKNOWN_MESSAGE'],
  ['a room of the wrong type', () => ({ t: 'leave', room: 42 }), 'BAD_MESSAGE'],
  ['a room too short', () => ({ t: 'leave', room: 'abc' }), 'BAD_MESSAGE'],
  ['a room with padding', () => ({ t: 'leave', room: room.roomId.slice(1) + '=' }), 'BAD_MESSAGE'],
  ['a missing field', () => ({ t: 'signal', room: room.roomId, to: device }), 'BAD_MESSAGE'],
  ['an extra field', () => ({ t: 'leave', room: room.roomId, please: true }), 'BAD_MESSAGE'],
  [
    'a __proto__ field',
    `{"t":"leave","room":"${room.roomId}","__proto__":{"admin":true}}`,
    'BAD_MESSAGE',
  ],
  [
    'an upper-case device id',
    () => ({ t: 'signal', room: room.roomId, to: device.toUpperCase(), data: 'AAAA' }),
    'BAD_MESSAGE',
  ],
  ['empty data', () => ({ t: 'signal', room: room.roomId, to: device, data: '' }), 'BAD_MESSAGE'],
  [
    'data that is not base64url',
    () => ({ t: 'signal', room: room.roomId, to: device, data: 'ab+/' }),
    'BAD_MESSAGE',
  ],
  [
    'data as an object',
    () => ({ t: 'signal', room: room.roomId, to: device, data: {} }),
    'BAD_MESSAGE',
  ],
  ['a join key too short', (c) => ({ ...join(c), key: 'AAAA' }), 'BAD_MESSAGE'],
  ['a join proof as a number', (c) => ({ ...join(c), proof: 1 }), 'BAD_MESSAGE'],
  ['a text over the protocol maximum', 'x'.repeat(MAX_TEXT_MESSAGE + 1), 'FRAME_TOO_LARGE'],
  ['an empty binary message', new Uint8Array(0), 'BAD_FRAME'],
  ['a short binary message', new Uint8Array([1, 2, 3]), 'BAD_FRAME'],
  [
    'a binary message of another kind',
    (c) => {
      const frame = encodeRelayFrame(room.roomId, device, random(8));
      frame[0] = 2;
      c.sendBinary(frame);
    },
    'BAD_FRAME',
  ],
  [
    'a relay frame with a bad device field',
    (c) => {
      const frame = encodeRelayFrame(room.roomId, device, random(8));
      frame.set(Buffer.from('AAAAAAAAAAAAAAA!'), RELAY_HEADER_BYTES - 16);
      c.sendBinary(frame);
    },
    'BAD_FRAME',
  ],
];

function send(c: RawClient, input: Input): void {
  if (typeof input === 'string') return c.send(input);
  if (input instanceof Uint8Array) return c.sendBinary(input);
  const message = input(c);
  if (message !== undefined) c.send(message);
}

describe('signaling bad input', { timeout: 10_000 }, () => {
  it('each malformed message gets its coded error, changes nothing, and the socket stays', async () => {
    const server = await h.start();
    const member = await h.member(server, room);
    const c = await h.connect(server);
    for (const [name, input, code] of CASES) {
      send(c, input);
      const answer = await c.nextOf('error');
      expect([name, answer.code]).toEqual([name, code]);
      expect(answer.message.length).toBeLessThanOrEqual(500);
    }
    expect(c.log.filter((m) => m.t === 'invalid')).toEqual([]);
    expect(c.isOpen).toBe(true);
    expect(await c.barrier()).toEqual([]);
    expect(server.stats()).toMatchObject({ connections: 2, rooms: 1, members: 1 });
    expect(await member.client.barrier(member.client.mark())).toEqual([]);
    expect(server.metrics.rejected('BAD_MESSAGE')).toBe(
      CASES.filter(([, , code]) => code === 'BAD_MESSAGE').length,
    );
  });

  it('a huge unknown kind or field name is answered with a bounded message', async () => {
    const server = await h.start();
    const c = await h.connect(server);
    c.send({ t: 'k'.repeat(20_000) });
    const unknown = await c.error('UNKNOWN_MESSAGE');
    c.send({ t: 'leave', room: room.roomId, ['f'.repeat(20_000)]: 1 });
    const extra = await c.error('BAD_MESSAGE');
    for (const m of [unknown, extra]) expect(m.message.length).toBeLessThanOrEqual(500);
  });

  it('text that is not UTF-8 closes the socket (1007); others are not affected', async () => {
    const server = await h.start();
    const member = await h.member(server, room);
    const c = await h.connect(server);
    c.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect((await c.closed).code).toBe(1007);
    expect(await member.client.barrier()).toEqual([]);
  });

  it('a message over maxPayloadBytes closes the socket (1009)', async () => {
    const server = await h.start();
    const c = await h.connect(server);
    c.send('{"t":"leave","room":"' + 'A'.repeat(server.limits.maxPayloadBytes) + '"}');
    expect((await c.closed).code).toBe(CLOSE_CODES.tooBig);
    expect(server.metrics.rejected('FRAME_TOO_LARGE')).toBe(1);
  });
});
