import { describe, expect, it } from 'vitest';
import { newRoom, signalingHarness, type RawClient } from '../support/signaling-raw.js';

const h = signalingHarness();

/** Resolves after `client` has received `n` more pings. */
function pings(client: RawClient, n: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const on = () => {
      if (++seen < n) return;
      client.ws.off('ping', on);
      resolve();
    };
    client.ws.on('ping', on);
  });
}

describe('signaling heartbeat', { timeout: 10_000 }, () => {
  it('terminates a socket that misses a heartbeat; one that answers stays', async () => {
    const server = await h.start({ heartbeatMs: 200 });
    const room = newRoom();
    const alive = await h.member(server, room);
    const dead = await h.member(server, room, undefined, { autoPong: false });
    await alive.client.nextOf('online');

    // It is pinged, does not answer, and is cut without a close frame.
    const closed = await dead.client.closed;
    expect(closed.code).toBe(1006);
    expect(await alive.client.nextOf('offline')).toMatchObject({ device: dead.device });
    expect(server.metrics.rejected('HEARTBEAT')).toBe(1);

    // The live one sees several more rounds and is still served.
    await pings(alive.client, 3);
    expect(alive.client.isOpen).toBe(true);
    expect(await alive.client.barrier()).toEqual([]);
    expect(server.stats()).toMatchObject({ connections: 1, members: 1 });
  });

  it('the hello announces the heartbeat interval', async () => {
    const server = await h.start({ heartbeatMs: 250 });
    const c = await h.connect(server);
    expect(c.hello.heartbeatMs).toBe(250);
  });
});
