import { describe, expect, it } from 'vitest';
import { CLOSE_CODES, MAX_TEXT_MESSAGE } from '../../shared/signaling/messages.js';
import { DEFAULT_SIGNALING_LIMITS, resolveLimits } from '../../signaling/limits.js';
import { createSignalingServer } from '../../signaling/server.js';
import { codeOf, rejectionCode } from '../support/codes.js';
import {
  newIdentity,
  newRoom,
  refusedStatus,
  signalingHarness,
  until,
  type Of,
} from '../support/signaling-raw.js';

const h = signalingHarness();
const leaveOf = (room: string) => JSON.stringify({ t: 'leave', room });

describe('signaling limits', { timeout: 10_000 }, () => {
  it('maxPayloadBytes: a larger message closes the socket with 1009', async () => {
    const server = await h.start({ maxPayloadBytes: 30_000 });
    const ok = await h.connect(server);
    // Just under the limit is read (and refused by the parser, the socket stays).
    ok.send('x'.repeat(29_999));
    expect(await ok.nextOf('error')).toMatchObject({ code: 'FRAME_TOO_LARGE' });
    expect(ok.isOpen).toBe(true);
    const text = await h.connect(server);
    text.send('x'.repeat(30_001));
    expect((await text.closed).code).toBe(CLOSE_CODES.tooBig);
    const binary = await h.connect(server);
    binary.sendBinary(new Uint8Array(30_001));
    expect((await binary.closed).code).toBe(CLOSE_CODES.tooBig);
    await until(() => server.metrics.rejected('FRAME_TOO_LARGE') === 3);
  });

  it('messagesPerSecond: over the burst is RATE_LIMITED (once), a flood is closed 1008', async () => {
    const server = await h.start({ messagesPerSecond: 5 });
    const room = newRoom().roomId;
    const c = await h.connect(server);
    for (let i = 0; i < 100; i++) c.send(leaveOf(room));
    expect((await c.closed).code).toBe(CLOSE_CODES.policy);
    const answers = c.log.filter((m) => m.t === 'error');
    const limited = answers.filter((m) => m.code === 'RATE_LIMITED');
    const handled = answers.filter((m) => m.code === 'PROTOCOL_STATE');
    // One per second (two if the flood straddles a second boundary).
    expect(limited.length).toBeGreaterThanOrEqual(1);
    expect(limited.length).toBeLessThanOrEqual(2);
    // The burst is twice the rate: about 10 handled, far from 100.
    expect(handled.length).toBeGreaterThanOrEqual(10);
    expect(handled.length).toBeLessThanOrEqual(12);
    expect(answers.indexOf(limited[0]!)).toBe(handled.length);
  });

  it('messagesPerSecond: a short excess is dropped, not closed, and the rate refills', async () => {
    const server = await h.start({ messagesPerSecond: 10 });
    const room = newRoom().roomId;
    const c = await h.connect(server);
    for (let i = 0; i < 24; i++) c.send(leaveOf(room));
    await c.error('RATE_LIMITED');
    await new Promise((r) => setTimeout(r, 300)); // 3 tokens back
    // 20 handled (the burst), the rest dropped with a RATE_LIMITED.
    const errors = c.log.filter((m) => m.t === 'error');
    expect(errors.filter((m) => m.code === 'PROTOCOL_STATE')).toHaveLength(20);
    expect(errors.length).toBeLessThanOrEqual(22);
    expect(await c.barrier()).toEqual([]);
    expect(c.isOpen).toBe(true);
  });

  it('bytesPerSecond: counts bytes, not messages', async () => {
    const server = await h.start({
      maxPayloadBytes: MAX_TEXT_MESSAGE,
      bytesPerSecond: 12_000, // burst 24,000 bytes
      messagesPerSecond: 1000,
    });
    const c = await h.connect(server);
    const frame = new Uint8Array(10_000); // not a relay frame: BAD_FRAME when handled
    c.sendBinary(frame);
    c.sendBinary(frame);
    c.sendBinary(frame); // over: 30,000 bytes
    expect(await c.nextOf('error')).toMatchObject({ code: 'BAD_FRAME' });
    expect(await c.nextOf('error')).toMatchObject({ code: 'BAD_FRAME' });
    expect(await c.nextOf('error')).toMatchObject({ code: 'RATE_LIMITED' });
    // A small message still fits in what is left.
    expect(await c.barrier()).toEqual([]);
    expect(server.metrics.rejected('RATE_LIMITED')).toBe(1);
  });

  it('a join costs more of the message rate than other messages', async () => {
    const server = await h.start({ messagesPerSecond: 10 }); // burst 20
    const id = newIdentity();
    const c = await h.connect(server);
    const answers: string[] = [];
    for (const room of [newRoom(), newRoom(), newRoom()]) {
      c.send(c.joinMessage(room, id));
      const answer = await c.next(
        (m): m is Of<'joined'> | Of<'error'> =>
          m.t === 'error' || (m.t === 'joined' && m.room === room.roomId),
      );
      answers.push(answer.t === 'error' ? answer.code : answer.t);
    }
    // Three plain messages would fit in the burst many times over; three joins do not.
    expect(answers[0]).toBe('joined');
    expect(answers).toContain('RATE_LIMITED');
  });

  it('repeated failed joins close the connection (1008)', async () => {
    const server = await h.start();
    const room = newRoom();
    const c = await h.connect(server);
    const answers: string[] = [];
    for (let i = 0; i < 10 && c.isOpen; i++) {
      c.send({ ...c.joinMessage(room, newIdentity()), proof: 'A'.repeat(86) });
      const answer = await Promise.race([c.answerAbout(room.roomId), c.closed]);
      if ('t' in answer) answers.push(answer.t === 'error' ? answer.code : answer.t);
    }
    expect(await c.closed).toEqual({ code: CLOSE_CODES.policy, reason: 'too many failed joins' });
    expect(new Set(answers)).toEqual(new Set(['JOIN_REFUSED']));
    expect(server.metrics.rejected('JOIN_REFUSED')).toBe(answers.length);
  });

  it('maxRoomsPerConnection: one more room is LIMIT_REACHED; after a leave it fits', async () => {
    const server = await h.start({ maxRoomsPerConnection: 2 });
    const id = newIdentity();
    const [r1, r2, r3] = [newRoom(), newRoom(), newRoom()];
    const c = await h.connect(server);
    expect(await c.join(r1, id)).toMatchObject({ t: 'joined' });
    expect(await c.join(r2, id)).toMatchObject({ t: 'joined' });
    expect(await c.join(r3, id)).toMatchObject({ t: 'error', code: 'LIMIT_REACHED' });
    // Joining a room it is in again is not a new room.
    expect(await c.join(r2, id)).toMatchObject({ t: 'joined' });
    expect(server.stats().rooms).toBe(2);
    c.send({ t: 'leave', room: r1.roomId });
    await c.nextOf('left');
    expect(await c.join(r3, id)).toMatchObject({ t: 'joined' });
  });

  it('maxMembersPerRoom: one more device is LIMIT_REACHED; members are not told', async () => {
    const server = await h.start({ maxMembersPerRoom: 2 });
    const room = newRoom();
    const a = await h.member(server, room);
    const b = await h.member(server, room);
    await a.client.nextOf('online');
    const mark = a.client.mark();
    const c = await h.connect(server);
    expect(await c.join(room, newIdentity())).toMatchObject({
      t: 'error',
      code: 'LIMIT_REACHED',
      room: room.roomId,
    });
    // A member's own device reconnecting is not one more.
    const b2 = await h.member(server, room, b.identity);
    expect(b2.joined.members).toEqual([a.device]);
    const data = b2.client.signal(room, a.device);
    const heard = await a.client.nextOf('signal', (m) => m.data === data);
    expect(a.client.since(mark, heard)).toEqual([]);
    expect(server.stats().members).toBe(2);
  });

  it('maxConnectionsPerIp: the upgrade is refused with 429, per address', async () => {
    const server = await h.start({ maxConnectionsPerIp: 2 });
    const a = await h.connect(server);
    await h.connect(server);
    expect(await refusedStatus(server.url)).toBe(429);
    // Another loopback address has its own count.
    await h.connect(server, { localAddress: '127.0.0.2' });
    await a.close();
    await until(() => server.stats().connections === 2);
    await h.connect(server);
    expect(server.metrics.rejected('LIMIT_REACHED')).toBe(1);
  });

  it('with trustProxy, the per-address count uses the last X-Forwarded-For hop', async () => {
    const server = await h.start({ maxConnectionsPerIp: 1 }, { trustProxy: true });
    const via = (hops: string) => ({ headers: { 'x-forwarded-for': hops } });
    await h.connect(server, via('10.0.0.1'));
    await h.connect(server, via('10.0.0.1, 10.0.0.2')); // the last hop counts (the one the proxy added)
    expect(await refusedStatus(server.url, via('192.0.2.9, 10.0.0.2'))).toBe(429);
    // Without a usable header it is the socket's address (its first connection here).
    await h.connect(server, via('not an address'));
    expect(await refusedStatus(server.url)).toBe(429);
  });

  it('maxConnections: the upgrade is refused with 429, whatever the address', async () => {
    const server = await h.start({ maxConnections: 2 });
    await h.connect(server, { localAddress: '127.0.0.2' });
    const b = await h.connect(server, { localAddress: '127.0.0.3' });
    expect(await refusedStatus(server.url)).toBe(429);
    await b.close();
    await until(() => server.stats().connections === 1);
    await h.connect(server);
  });

  it('maxBufferedBytes: relays to a receiver that does not read are OVERLOADED', async () => {
    const server = await h.start({
      maxBufferedBytes: 64 * 1024,
      maxPayloadBytes: 1 << 20,
      bytesPerSecond: 1 << 30,
    });
    const room = newRoom();
    const a = await h.member(server, room);
    const b = await h.member(server, room);
    b.client.pauseReading();
    const frame = new Uint8Array(256 * 1024);
    let sent = 0;
    let overloaded = false;
    // Kernel buffers take a few MB before the server's own buffer grows.
    while (!overloaded && sent < 200) {
      a.client.relay(room, b.device, frame);
      sent++;
      const answers = await a.client.barrier();
      overloaded = answers.some((m) => m.t === 'error' && m.code === 'OVERLOADED');
    }
    expect(overloaded).toBe(true);
    expect(a.client.log.find((m) => m.t === 'error' && m.code === 'OVERLOADED')).toMatchObject({
      room: room.roomId,
    });
    // Once it reads again, it gets every frame but the refused one, then new ones.
    b.client.resumeReading();
    for (let i = 0; i < sent - 1; i++) await b.client.nextOf('relay');
    const last = a.client.relay(room, b.device, new Uint8Array([7]));
    const got = await b.client.nextOf('relay');
    expect(Buffer.from(got.payload)).toEqual(Buffer.from(last));
    expect(server.metrics.relayFrames).toBe(sent);
  });

  it('idleTimeoutMs: a connection in no room is closed 4000; a member stays', async () => {
    const server = await h.start({ idleTimeoutMs: 400 });
    const room = newRoom();
    const member = await h.member(server, room);
    const idle = await h.connect(server);
    expect(await idle.closed).toEqual({ code: CLOSE_CODES.idle, reason: 'joined no room' });
    // The member connected first, so its timer would have run out by now.
    expect(await member.client.barrier()).toEqual([]);
    // Leaving its last room starts the clock again.
    member.client.send({ t: 'leave', room: room.roomId });
    expect((await member.client.closed).code).toBe(CLOSE_CODES.idle);
    expect(server.metrics.rejected('IDLE')).toBe(2);
  });

  it('resolveLimits fills defaults and refuses bad options with INVALID_OPTION', async () => {
    expect(resolveLimits({})).toEqual(DEFAULT_SIGNALING_LIMITS);
    expect(resolveLimits({ maxMembersPerRoom: 3 }).maxMembersPerRoom).toBe(3);
    const bad: Record<string, unknown>[] = [
      { noSuchLimit: 1 },
      { messagesPerSecond: 0 },
      { messagesPerSecond: -5 },
      { messagesPerSecond: Number.NaN },
      { messagesPerSecond: '10' },
      { messagesPerSecond: 2.5 }, // the hello announces integers
      { idleTimeoutMs: Number.POSITIVE_INFINITY }, // Node would clamp the timer to 1 ms
      { heartbeatMs: 2 ** 31 },
      { maxPayloadBytes: MAX_TEXT_MESSAGE - 1 }, // a sealed signal must fit
      { maxPayloadBytes: 1 << 20, bytesPerSecond: (1 << 19) - 1 }, // the burst must hold one
    ];
    for (const limits of bad) {
      expect([limits, codeOf(() => resolveLimits(limits))]).toEqual([limits, 'INVALID_OPTION']);
    }
    expect(
      await rejectionCode(createSignalingServer({ port: 0, limits: { heartbeatMs: 0 } })),
    ).toBe('INVALID_OPTION');
  });

  it('the largest limits still make a hello that clients accept', async () => {
    const top = 2 ** 31 - 1;
    const server = await h.start({ maxPayloadBytes: top, bytesPerSecond: top, idleTimeoutMs: top });
    const c = await h.connect(server);
    expect(c.hello.limits.bytesPerSecond).toBe(top);
    expect(await c.barrier()).toEqual([]);
  });
});
