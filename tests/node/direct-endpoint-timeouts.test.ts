import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { nodeWebSocket } from '../../peer/node/web-socket.js';
import { DirectServer, type DirectServerOptions } from '../../peer/node/direct-server.js';
import { createDirectDialer } from '../../peer/transport/direct-dialer.js';
import type { Transport } from '../../peer/transport/transport-port.js';
import { DIRECT_PATHS, tunnelPath } from '../../shared/direct/direct-paths.js';
import { encodeTunnelBody, parseTunnelBody } from '../../shared/direct/tunnel-body.js';
import { eventually } from '../support/peers.js';

const servers: DirectServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop();
});

async function start(options: DirectServerOptions) {
  const server = new DirectServer({ host: '127.0.0.1', port: 0, ...options });
  servers.push(server);
  const accepted: Transport[] = [];
  server.on('transport', ({ transport }) => accepted.push(transport));
  const { port } = await server.start();
  return { server, accepted, port, base: `http://127.0.0.1:${port}` };
}

function closeOf(t: Transport): Promise<string | undefined> {
  return new Promise((resolve) => t.on('close', ({ error }) => resolve(error?.code)));
}

describe('direct endpoint: poll window, idle tunnels, dead sockets', () => {
  it('a held poll is answered empty when the poll window ends; the client polls again', async () => {
    const { accepted, base } = await start({ pollMs: 50, idleTimeoutMs: 10_000 });
    const opened = (await (
      await fetch(`${base}${DIRECT_PATHS.tunnel}`, { method: 'POST' })
    ).json()) as {
      tunnel: string;
    };
    const poll = async (seq: number) => {
      const response = await fetch(`${base}${tunnelPath(opened.tunnel, 'poll')}`, {
        method: 'POST',
        body: encodeTunnelBody(seq, []),
      });
      return parseTunnelBody(new Uint8Array(await response.arrayBuffer()));
    };
    expect(await poll(0)).toEqual({ seq: 0, frames: [], close: null });
    expect(await poll(1)).toEqual({ seq: 1, frames: [], close: null });
    // The transport is still open, and the next poll takes what it sends.
    const next = poll(2);
    await accepted[0]!.send(Uint8Array.of(4));
    expect((await next).frames).toEqual([Uint8Array.of(4)]);
  });

  it('the HTTP transport keeps working across many empty poll windows', async () => {
    const { accepted, port } = await start({ pollMs: 20, idleTimeoutMs: 10_000, websocket: false });
    let polls = 0;
    const dialer = createDirectDialer({
      webSocket: nodeWebSocket,
      fetch: (url, init) => {
        if (url.endsWith('/poll')) polls++;
        return fetch(url, init);
      },
    });
    const client = await dialer.http({ host: '127.0.0.1', port });
    await eventually(() => accepted.length === 1);
    const got: number[] = [];
    client.on('message', (f) => got.push(f[0]!));
    await eventually(() => polls >= 5); // several windows passed with nothing to say
    await accepted[0]!.send(Uint8Array.of(1));
    await eventually(() => got.length === 1);
    client.close();
  });

  it('a tunnel with no request for the idle timeout is closed (TIMEOUT)', async () => {
    const { accepted, base, server } = await start({ pollMs: 50, idleTimeoutMs: 150 });
    await fetch(`${base}${DIRECT_PATHS.tunnel}`, { method: 'POST' });
    await eventually(() => accepted.length === 1);
    expect(await closeOf(accepted[0]!)).toBe('TIMEOUT');
    expect(server.connectionCount()).toBe(0);
  });

  it('a WebSocket that stops answering pings is dropped', async () => {
    const { accepted, port, server } = await start({ idleTimeoutMs: 100, pollMs: 50 });
    const ws = new WebSocket(`ws://127.0.0.1:${port}${DIRECT_PATHS.webSocket}`, {
      autoPong: false,
    });
    const gone = new Promise((resolve) => ws.once('close', resolve));
    await eventually(() => accepted.length === 1);
    expect(await closeOf(accepted[0]!)).toBe('CLOSED');
    await gone;
    expect(server.connectionCount()).toBe(0);
  });
});
