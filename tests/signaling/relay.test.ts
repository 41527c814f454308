import { describe, expect, it } from 'vitest';
import { MAX_SEALED_CHARS } from '../../shared/signaling/messages.js';
import { encodeRelayFrame } from '../../shared/signaling/relay-frame.js';
import {
  newIdentity,
  newRoom,
  random,
  signalingHarness,
  type Member,
} from '../support/signaling-raw.js';

const h = signalingHarness();

/** Asserts `to` received nothing before a marker `from` sends it now (in-order delivery). */
async function nothingMoreFor(from: Member, to: Member, room: string, mark: number) {
  const data = from.client.signal(room, to.device);
  const marker = await to.client.nextOf('signal', (m) => m.data === data);
  return to.client.since(mark, marker);
}

async function trio() {
  const server = await h.start();
  const room = newRoom();
  const a = await h.member(server, room);
  const b = await h.member(server, room);
  const c = await h.member(server, room);
  await a.client.nextOf('online', (m) => m.device === c.device);
  await b.client.nextOf('online', (m) => m.device === c.device);
  return { server, room, a, b, c };
}

describe('signaling relay', { timeout: 10_000 }, () => {
  it('a signal reaches only its addressee, stamped with the sender', async () => {
    const { server, room, a, b, c } = await trio();
    const cMark = c.client.mark();
    const data = a.client.signal(room, b.device);
    expect(await b.client.nextOf('signal')).toEqual({
      t: 'signal',
      room: room.roomId,
      from: a.device,
      data,
    });
    expect(await nothingMoreFor(b, c, room.roomId, cMark)).toEqual([]);
    expect(server.metrics.signalsRelayed).toBe(2);
  });

  it('relay frames reach only their addressee, stamped with the sender, in order', async () => {
    const { room, a, b, c } = await trio();
    const cMark = c.client.mark();
    const payloads = [random(0), random(1), random(1000), random(30_000)];
    for (const p of payloads) a.client.relay(room, b.device, p);
    for (const p of payloads) {
      const frame = await b.client.nextOf('relay');
      expect(frame.room).toBe(room.roomId);
      expect(frame.device).toBe(a.device);
      expect(Buffer.compare(frame.payload, Buffer.from(p))).toBe(0);
    }
    expect(await nothingMoreFor(b, c, room.roomId, cMark)).toEqual([]);
  });

  it('never crosses rooms, even to a device that is online elsewhere', async () => {
    const server = await h.start();
    const one = newRoom();
    const two = newRoom();
    const a = await h.member(server, one);
    const b = await h.member(server, two);
    const d = await h.member(server, two);
    const bMark = b.client.mark();
    // b is not in room one: NOT_FOUND, naming room and addressee.
    a.client.signal(one, b.device);
    expect(await a.client.nextOf('error')).toMatchObject({
      code: 'NOT_FOUND',
      room: one.roomId,
      to: b.device,
    });
    a.client.relay(one, b.device);
    expect(await a.client.nextOf('error')).toMatchObject({ code: 'NOT_FOUND', room: one.roomId });
    // a is not in room two: it cannot speak there.
    a.client.signal(two, b.device);
    expect(await a.client.nextOf('error')).toMatchObject({
      code: 'PROTOCOL_STATE',
      room: two.roomId,
    });
    a.client.relay(two, b.device);
    expect(await a.client.nextOf('error')).toMatchObject({
      code: 'PROTOCOL_STATE',
      room: two.roomId,
    });
    // a's messages were all handled (it got the answers); b got none of them.
    const got = await nothingMoreFor(d, b, two.roomId, bMark);
    expect(got.filter((m) => m.t === 'signal' || m.t === 'relay')).toEqual([]);
  });

  it('a client cannot make a relay frame appear from another device', async () => {
    const { room, a, b, c } = await trio();
    // The device field a client writes is the addressee; the server writes the sender over it.
    a.client.sendBinary(encodeRelayFrame(room.roomId, c.device, Buffer.from('to c')));
    const atC = await c.client.nextOf('relay');
    expect(atC.device).toBe(a.device);
    expect(atC.payload.toString()).toBe('to c');
    // Addressing itself (to see its own id come back as someone else's) is refused.
    a.client.sendBinary(encodeRelayFrame(room.roomId, a.device, Buffer.from('me')));
    expect(await a.client.nextOf('error')).toMatchObject({ code: 'NOT_FOUND', to: a.device });
    // A frame naming a device of no member is refused too; b heard nothing of any of it.
    const bMark = b.client.mark();
    a.client.relay(room, newIdentity().device);
    expect(await a.client.nextOf('error')).toMatchObject({ code: 'NOT_FOUND' });
    expect(await nothingMoreFor(c, b, room.roomId, bMark)).toEqual([]);
  });

  it('a signal cannot carry a forged sender: an extra from field is refused', async () => {
    const { room, a, b, c } = await trio();
    const bMark = b.client.mark();
    a.client.send({ t: 'signal', room: room.roomId, to: b.device, from: c.device, data: 'AAAA' });
    expect(await a.client.nextOf('error')).toMatchObject({ code: 'BAD_MESSAGE' });
    expect(await nothingMoreFor(c, b, room.roomId, bMark)).toEqual([]);
  });

  it('the stamp is the device proven in that room (one connection, two rooms)', async () => {
    const server = await h.start();
    const one = newRoom();
    const two = newRoom();
    const x = await h.member(server, one);
    const y = await h.member(server, two);
    // x joins room two as another device of its own.
    const other = newIdentity();
    expect(await x.client.join(two, other)).toMatchObject({ t: 'joined', self: other.device });
    x.client.signal(two, y.device);
    expect((await y.client.nextOf('signal')).from).toBe(other.device);
    x.client.relay(two, y.device);
    expect((await y.client.nextOf('relay')).device).toBe(other.device);
    y.client.signal(two, other.device);
    const back = await x.client.nextOf('signal');
    expect(back).toMatchObject({ room: two.roomId, from: y.device });
  });

  it('NOT_FOUND for an unknown addressee; PROTOCOL_STATE before joining', async () => {
    const server = await h.start();
    const room = newRoom();
    const a = await h.member(server, room);
    const nobody = newIdentity().device;
    a.client.signal(room, nobody);
    expect(await a.client.nextOf('error')).toMatchObject({
      code: 'NOT_FOUND',
      room: room.roomId,
      to: nobody,
    });
    const aMark = a.client.mark();

    const stranger = await h.connect(server);
    stranger.signal(room, a.device);
    expect(await stranger.nextOf('error')).toMatchObject({
      code: 'PROTOCOL_STATE',
      room: room.roomId,
    });
    stranger.relay(room, a.device);
    expect(await stranger.nextOf('error')).toMatchObject({ code: 'PROTOCOL_STATE' });
    stranger.send({ t: 'leave', room: room.roomId });
    expect(await stranger.nextOf('error')).toMatchObject({ code: 'PROTOCOL_STATE' });
    // a heard none of it (the stranger's messages were handled before its answers came).
    expect(await a.client.barrier(aMark)).toEqual([]);
    expect(server.metrics.signalsRelayed + server.metrics.relayFrames).toBe(0);
  });

  it('a sealed signal of the largest size passes; one char more is refused', async () => {
    const { room, a, b } = await trio();
    const big = 'A'.repeat(MAX_SEALED_CHARS);
    a.client.signal(room, b.device, big);
    expect((await b.client.nextOf('signal')).data.length).toBe(big.length);
    a.client.signal(room, b.device, big + 'A');
    expect(await a.client.nextOf('error')).toMatchObject({ code: 'BAD_MESSAGE' });
  });
});
