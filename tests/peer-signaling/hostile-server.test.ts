import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AddressInfo } from 'node:net';
import { toBase64url } from '../../shared/crypto/bytes.js';
import { SignalingTestbed, newRoom, until } from './setup.js';

const bed = new SignalingTestbed();
const servers: WebSocketServer[] = [];
afterEach(async () => {
  await bed.cleanup();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

const LIMITS = {
  maxPayloadBytes: 65536,
  messagesPerSecond: 100,
  bytesPerSecond: 1 << 22,
  maxRoomsPerConnection: 8,
  maxMembersPerRoom: 64,
};

/** A server that greets properly, then does whatever `script` does with each socket. */
async function fakeServer(script: (ws: WebSocket, received: string[]) => void): Promise<string> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  servers.push(wss);
  await new Promise((r) => wss.once('listening', r));
  wss.on('connection', (ws) => {
    const received: string[] = [];
    ws.on('message', (data) => received.push(Buffer.isBuffer(data) ? data.toString('utf8') : ''));
    const hello = { t: 'hello', v: 1, challenge: toBase64url(new Uint8Array(32)) };
    ws.send(JSON.stringify({ ...hello, heartbeatMs: 30000, limits: LIMITS }));
    script(ws, received);
  });
  return `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/signal`;
}

describe('signaling client against a hostile server', () => {
  it('ignores malformed and ill-typed messages, and a joined list stamped for another device', async () => {
    const room = newRoom();
    const url = await fakeServer((ws, received) => {
      ws.on('message', () => {
        if (!received.some((m) => m.includes('"join"'))) return;
        ws.send('{not json');
        ws.send(JSON.stringify({ t: 'online', room: room.roomId, device: 'NOT-AN-ID' }));
        ws.send(JSON.stringify({ t: 'teleport' }));
        ws.send(
          JSON.stringify({ t: 'joined', room: room.roomId, self: 'aaaaaaaaaaaaaaaa', members: [] }),
        );
        ws.send(Buffer.from([9, 9, 9]));
        ws.send(
          JSON.stringify({ t: 'signal', room: room.roomId, from: 'bbbbbbbbbbbbbbbb', data: 'x' }),
        );
      });
    });
    const client = bed.client(url, { joinTimeoutMs: 300 });
    let events = 0;
    for (const e of ['online', 'joined', 'signal', 'relay'] as const) client.on(e, () => events++);
    const joining = client.join(room);
    await expect(joining).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(events).toBe(0);
    expect(client.state).toBe('open');
  });

  it('drops a server that speaks another protocol version, and tries again later', async () => {
    let connections = 0;
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    servers.push(wss);
    await new Promise((r) => wss.once('listening', r));
    wss.on('connection', (ws) => {
      connections++;
      const hello = { t: 'hello', v: 2, challenge: toBase64url(new Uint8Array(32)) };
      ws.send(JSON.stringify({ ...hello, heartbeatMs: 30000, limits: LIMITS }));
    });
    const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/signal`;
    const client = bed.client(url);
    void client.join(newRoom()).catch(() => undefined);
    await until(() => connections >= 3);
    expect(client.state).not.toBe('open');
  });

  it('gives up on a server that never greets, within the connect timeout', async () => {
    let connections = 0;
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    servers.push(wss);
    await new Promise((r) => wss.once('listening', r));
    wss.on('connection', () => connections++);
    const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/signal`;
    const client = bed.client(url, { connectTimeoutMs: 100 });
    void client.join(newRoom()).catch(() => undefined);
    await until(() => connections >= 2);
    expect(client.state).not.toBe('open');
  });
});
