import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { nodeDirectDialer } from '../../peer/node/direct-dialer.js';
import { DirectServer } from '../../peer/node/direct-server.js';
import type { Transport } from '../../peer/transport/transport-port.js';
import { WebSocketTransport } from '../../peer/transport/web-socket-transport.js';
import { DIRECT_PATHS, tunnelPath } from '../../shared/direct/direct-paths.js';
import {
  MAX_TUNNEL_BODY_BYTES,
  encodeTunnelBody,
  parseTunnelBody,
} from '../../shared/direct/tunnel-body.js';
import { LIMITS } from '../../shared/limits.js';
import { eventually } from '../support/peers.js';

let server: DirectServer;
let base = '';
let port = 0;
/** What each accepted raw transport received. */
const received = new Map<Transport, Uint8Array[]>();
const accepted: Transport[] = [];

beforeAll(async () => {
  server = new DirectServer({ host: '127.0.0.1', port: 0, handshakeTimeoutMs: 30_000 });
  server.on('transport', ({ transport }) => {
    const frames: Uint8Array[] = [];
    received.set(transport, frames);
    transport.on('message', (f) => frames.push(f));
    accepted.push(transport);
  });
  port = (await server.start()).port;
  base = `http://127.0.0.1:${port}`;
});
afterAll(() => server.stop());

async function post(
  path: string,
  body: Uint8Array<ArrayBuffer> = new Uint8Array(0),
  method = 'POST',
): Promise<{ status: number; body: Uint8Array; json: unknown }> {
  const response = await fetch(`${base}${path}`, {
    method,
    ...(method === 'GET' ? {} : { body }),
  });
  const bytes = new Uint8Array(await response.arrayBuffer());
  let json: unknown = null;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    // A binary answer.
  }
  return { status: response.status, body: bytes, json };
}

/** Opens a tunnel by hand; resolves with its id and the accepted transport. */
async function openTunnel(): Promise<{ id: string; transport: Transport }> {
  const count = accepted.length;
  const opened = await post(DIRECT_PATHS.tunnel);
  expect(opened.status).toBe(201);
  const { tunnel } = opened.json as { tunnel: string };
  await eventually(() => accepted.length === count + 1);
  return { id: tunnel, transport: accepted[count]! };
}

describe('direct endpoint: bad HTTP input gets coded errors and changes nothing', () => {
  it('opens a tunnel with a random id and the poll window', async () => {
    const opened = await post(DIRECT_PATHS.tunnel);
    expect(opened.status).toBe(201);
    const { v, tunnel, pollMs } = opened.json as Record<string, unknown>;
    expect([v, pollMs]).toEqual([1, 20_000]);
    expect(tunnel).toMatch(/^[A-Za-z0-9_-]{21}[AQgw]$/);
    expect((await post(DIRECT_PATHS.tunnel)).json).not.toEqual(opened.json);
  });

  it('bad or unknown tunnel ids get 404 NOT_FOUND', async () => {
    for (const id of ['nope', 'A'.repeat(22), '../../x', 'A'.repeat(21) + 'B']) {
      const answer = await post(`${DIRECT_PATHS.tunnel}/${id}/send`, encodeTunnelBody(0, []));
      expect(answer.status).toBe(404);
      expect(answer.json).toMatchObject({ code: 'NOT_FOUND' });
    }
  });

  it('wrong methods get 405, unknown paths 404, the WebSocket path without an upgrade 426', async () => {
    const { id } = await openTunnel();
    const get = await post(tunnelPath(id, 'send'), undefined, 'GET');
    expect(get.status).toBe(405);
    expect(get.json).toMatchObject({ code: 'BAD_MESSAGE' });
    expect((await post(DIRECT_PATHS.tunnel, undefined, 'GET')).status).toBe(405);
    const unknown = await post('/meshsync/v1/other');
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({ code: 'NOT_FOUND' });
    expect((await post(DIRECT_PATHS.webSocket, undefined, 'GET')).status).toBe(426);
    const withBody = await post(DIRECT_PATHS.tunnel, Uint8Array.of(1));
    expect(withBody.status).toBe(400);
    expect(withBody.json).toMatchObject({ code: 'BAD_FRAME' });
  });

  it('send requests out of order or replayed get 409 FRAME_REJECTED and deliver nothing', async () => {
    const { id, transport } = await openTunnel();
    const frames = received.get(transport)!;
    const ahead = await post(tunnelPath(id, 'send'), encodeTunnelBody(1, [Uint8Array.of(1)]));
    expect(ahead.status).toBe(409);
    expect(ahead.json).toMatchObject({ code: 'FRAME_REJECTED' });
    expect(
      (await post(tunnelPath(id, 'send'), encodeTunnelBody(0, [Uint8Array.of(2)]))).status,
    ).toBe(204);
    const replay = await post(tunnelPath(id, 'send'), encodeTunnelBody(0, [Uint8Array.of(2)]));
    expect(replay.status).toBe(409);
    await eventually(() => frames.length === 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(frames.map((f) => [...f])).toEqual([[2]]);
  });

  it('polls out of order get 409; an in-order poll is answered with what waits, seq echoed', async () => {
    const { id, transport } = await openTunnel();
    await transport.send(Uint8Array.of(7, 7));
    expect((await post(tunnelPath(id, 'poll'), encodeTunnelBody(3, []))).status).toBe(409);
    const answer = await post(tunnelPath(id, 'poll'), encodeTunnelBody(0, []));
    expect(answer.status).toBe(200);
    expect(parseTunnelBody(answer.body)).toEqual({
      seq: 0,
      frames: [Uint8Array.of(7, 7)],
      close: null,
    });
    expect((await post(tunnelPath(id, 'poll'), encodeTunnelBody(0, []))).status).toBe(409);
    const withRecords = await post(tunnelPath(id, 'poll'), encodeTunnelBody(1, [Uint8Array.of(1)]));
    expect(withRecords.status).toBe(400);
  });

  it('malformed bodies get 400 BAD_FRAME, deliver nothing and use up no sequence number', async () => {
    const { id, transport } = await openTunnel();
    const frames = received.get(transport)!;
    const good = encodeTunnelBody(0, [Uint8Array.of(1, 2, 3)]);
    const bad = [
      good.slice(0, good.length - 1), // truncated record
      good.slice(0, 6), // truncated record header
      Uint8Array.of(0, 0), // truncated sequence number
      (() => {
        const b = good.slice();
        b[4] = 9; // unknown record type
        return b;
      })(),
    ];
    for (const body of bad) {
      const answer = await post(tunnelPath(id, 'send'), body);
      expect(answer.status).toBe(400);
      expect(answer.json).toMatchObject({ code: 'BAD_FRAME' });
    }
    expect((await post(tunnelPath(id, 'send'), good)).status).toBe(204);
    await eventually(() => frames.length === 1);
    expect(frames.map((f) => [...f])).toEqual([[1, 2, 3]]);
  });

  it('a body over the limit gets 413 FRAME_TOO_LARGE and delivers nothing', async () => {
    const { id, transport } = await openTunnel();
    const frames = received.get(transport)!;
    const answer = await post(tunnelPath(id, 'send'), new Uint8Array(MAX_TUNNEL_BODY_BYTES + 1));
    expect(answer.status).toBe(413);
    expect(answer.json).toMatchObject({ code: 'FRAME_TOO_LARGE' });
    // A record that claims more than the frame limit, in a body within it.
    const claim = new Uint8Array(9);
    new DataView(claim.buffer).setUint32(5, LIMITS.maxFrameBytes + 1);
    claim[4] = 1;
    const big = await post(tunnelPath(id, 'send'), claim);
    expect(big.status).toBe(413);
    expect(
      (await post(tunnelPath(id, 'send'), encodeTunnelBody(0, [Uint8Array.of(5)]))).status,
    ).toBe(204);
    await eventually(() => frames.length === 1);
    expect(frames.map((f) => [...f])).toEqual([[5]]);
  });
});

describe('direct endpoint: bad WebSocket input', () => {
  async function openWs(): Promise<WebSocket> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${DIRECT_PATHS.webSocket}`, {
      maxPayload: 2 * LIMITS.maxFrameBytes,
    });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return ws;
  }

  it('a text message closes the socket with BAD_FRAME on the server side', async () => {
    const count = accepted.length;
    const ws = await openWs();
    await eventually(() => accepted.length === count + 1);
    const serverEnd = accepted[count]!;
    const ended = new Promise<string | undefined>((resolve) =>
      serverEnd.on('close', ({ error }) => resolve(error?.code)),
    );
    const code = new Promise<number>((resolve) => ws.once('close', resolve));
    ws.send('{"t":"hello"}');
    expect(await ended).toBe('BAD_FRAME');
    expect(await code).toBe(1003);
  });

  it('a frame over the limit closes the socket (1009), and the sender reads FRAME_TOO_LARGE', async () => {
    const ws = await openWs();
    const client = new WebSocketTransport(ws, { maxFrameBytes: 2 * LIMITS.maxFrameBytes });
    const ended = new Promise<string | undefined>((resolve) =>
      client.on('close', ({ error }) => resolve(error?.code)),
    );
    await client.send(new Uint8Array(LIMITS.maxFrameBytes + 1));
    expect(await ended).toBe('FRAME_TOO_LARGE');
  });

  it('an upgrade on another path is refused (404)', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/meshsync/v1/other`);
    const error = await new Promise<Error>((resolve) => ws.once('error', resolve));
    expect(error.message).toContain('404');
  });

  it('the dialer reports a refused WebSocket as CONNECT_FAILED', async () => {
    const stopped = new DirectServer({ host: '127.0.0.1', port: 0, websocket: false });
    const { port: p } = await stopped.start();
    await expect(nodeDirectDialer.websocket({ host: '127.0.0.1', port: p })).rejects.toMatchObject({
      code: 'CONNECT_FAILED',
    });
    await stopped.stop();
  });
});
