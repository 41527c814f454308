import { describe, expect, it } from 'vitest';
import { newRoom, signalingHarness, until } from '../support/signaling-raw.js';

const h = signalingHarness();

describe('signaling presence', { timeout: 10_000 }, () => {
  it('a joiner gets the member list; the others get online', async () => {
    const server = await h.start();
    const room = newRoom();
    const a = await h.member(server, room);
    const b = await h.member(server, room);
    const c = await h.member(server, room);
    expect(b.joined.members).toEqual([a.device]);
    expect(new Set(c.joined.members)).toEqual(new Set([a.device, b.device]));
    expect(c.joined.members).not.toContain(c.device);

    expect((await a.client.nextOf('online')).device).toBe(b.device);
    expect((await a.client.nextOf('online')).device).toBe(c.device);
    expect(await b.client.nextOf('online')).toEqual({
      t: 'online',
      room: room.roomId,
      device: c.device,
    });
    // Nobody is told of themselves.
    expect((await c.client.barrier(0)).filter((m) => m.t === 'online')).toEqual([]);
  });

  it('presence is per room', async () => {
    const server = await h.start();
    const one = newRoom();
    const two = newRoom();
    const a = await h.member(server, one);
    const mark = a.client.mark();
    const b = await h.member(server, two);
    expect(b.joined.members).toEqual([]);
    // a hears nothing of room two: b now joins room one too, and that is the first a hears.
    const again = await b.client.join(one, b.identity);
    expect(again).toMatchObject({ t: 'joined', members: [a.device] });
    const online = await a.client.nextOf('online');
    expect(a.client.since(mark, online)).toEqual([]);
    expect(online).toEqual({ t: 'online', room: one.roomId, device: b.device });
    expect(server.stats()).toMatchObject({ rooms: 2, members: 3 });
  });

  it('leave: the leaver gets left, the others offline; it can no longer speak there', async () => {
    const server = await h.start();
    const room = newRoom();
    const a = await h.member(server, room);
    const b = await h.member(server, room);
    await a.client.nextOf('online');
    b.client.send({ t: 'leave', room: room.roomId });
    expect(await b.client.nextOf('left')).toEqual({ t: 'left', room: room.roomId, reason: 'left' });
    expect(await a.client.nextOf('offline')).toEqual({
      t: 'offline',
      room: room.roomId,
      device: b.device,
    });
    expect(server.stats()).toMatchObject({ rooms: 1, members: 1 });
    b.client.signal(room, a.device);
    expect(await b.client.nextOf('error')).toMatchObject({ code: 'PROTOCOL_STATE' });
    // Leaving twice is a state error, not a second offline.
    const mark = a.client.mark();
    b.client.send({ t: 'leave', room: room.roomId });
    expect(await b.client.nextOf('error')).toMatchObject({ code: 'PROTOCOL_STATE' });
    // b rejoins: a's next news is b online again, with no offline in between.
    await b.client.join(room, b.identity);
    const online = await a.client.nextOf('online');
    expect(online.device).toBe(b.device);
    expect(a.client.since(mark, online)).toEqual([]);
  });

  it('the last member leaving removes the room', async () => {
    const server = await h.start();
    const room = newRoom();
    const a = await h.member(server, room);
    a.client.send({ t: 'leave', room: room.roomId });
    await a.client.nextOf('left');
    expect(server.stats()).toMatchObject({ rooms: 0, members: 0, connections: 1 });
  });

  it('a closed or dropped socket goes offline in every room it was in', async () => {
    const server = await h.start();
    const one = newRoom();
    const two = newRoom();
    const a = await h.member(server, one);
    const a2 = await h.member(server, two);
    const b = await h.member(server, one);
    expect(await b.client.join(two, b.identity)).toMatchObject({ t: 'joined' });
    await a.client.nextOf('online');
    await a2.client.nextOf('online');

    b.client.terminate(); // no close handshake
    expect(await a.client.nextOf('offline')).toEqual({
      t: 'offline',
      room: one.roomId,
      device: b.device,
    });
    expect(await a2.client.nextOf('offline')).toEqual({
      t: 'offline',
      room: two.roomId,
      device: b.device,
    });
    await until(() => server.stats().connections === 2);
    expect(server.stats()).toMatchObject({ rooms: 2, members: 2 });

    await a.client.close();
    await until(() => server.stats().connections === 1);
    expect(server.stats()).toMatchObject({ rooms: 1, members: 1 });
  });
});
