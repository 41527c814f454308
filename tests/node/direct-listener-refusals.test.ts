import { connect as tcpConnect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeDirectDialer } from '../../peer/node/direct-dialer.js';
import type { Peer } from '../../peer/peer.js';
import type { Transport } from '../../peer/transport/transport-port.js';
import { isMeshsyncError } from '../../shared/errors.js';
import { pairedMeshes } from '../rtc/setup.js';
import { rejectionCode } from '../support/codes.js';
import { dialMesh, startListener } from '../support/direct-mesh.js';
import { eventually } from '../support/peers.js';

const peers: Peer[] = [];
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  for (const peer of peers.splice(0)) await peer.stop();
});

const loopback = (port: number) => ({ host: '127.0.0.1', port });

/** The error a dial rejects with. */
async function dialError(dial: Promise<Transport>): Promise<unknown> {
  try {
    (await dial).close();
  } catch (err) {
    return err;
  }
  throw new Error('the dial succeeded');
}

function closed(t: Transport): Promise<{ reason: string; code: string | undefined }> {
  return new Promise((resolve) =>
    t.on('close', ({ reason, error }) => resolve({ reason, code: error?.code })),
  );
}

describe('direct listener: source addresses, connection cap, timeouts', () => {
  it('refuses a source address the rule does not take (403, ADDRESS_REFUSED), on both paths', async () => {
    const { a } = await pairedMeshes(peers);
    // Binding a public address is not possible here: a rule that takes nothing stands in.
    const seen: string[] = [];
    const started = await startListener(a, cleanups, {
      allowAddress: (address) => {
        seen.push(address);
        return false;
      },
    });
    const http = await dialError(nodeDirectDialer.http(loopback(started.port)));
    expect(http).toMatchObject({
      code: 'CONNECT_FAILED',
      details: { status: 403, code: 'ADDRESS_REFUSED' },
    });
    const ws = await dialError(nodeDirectDialer.websocket(loopback(started.port)));
    expect(isMeshsyncError(ws, 'CONNECT_FAILED')).toBe(true);
    expect(String(ws)).toContain('403');
    expect(started.refused.map((r) => [r.address, r.code])).toEqual([
      ['127.0.0.1', 'ADDRESS_REFUSED'],
      ['127.0.0.1', 'ADDRESS_REFUSED'],
    ]);
    expect(seen).toEqual(['127.0.0.1', '127.0.0.1']);
    expect(started.sessions).toEqual([]);
    expect(started.listener.connectionCount()).toBe(0);
  });

  it('takes loopback sources by default (localOnly)', async () => {
    const { a, b } = await pairedMeshes(peers);
    const started = await startListener(a, cleanups);
    const session = await dialMesh(b, 'websocket', started.port);
    await session.whenReady();
    expect(started.refused).toEqual([]);
    expect(started.listener.endpoints()).toEqual([{ host: '127.0.0.1', port: started.port }]);
  });

  it('refuses connections over maxConnections (503, LIMIT_REACHED) and takes them again below', async () => {
    const { a } = await pairedMeshes(peers);
    const started = await startListener(a, cleanups, { maxConnections: 2 });
    // Raw connections that say nothing still count while their handshake runs.
    const first = await nodeDirectDialer.websocket(loopback(started.port));
    const second = await nodeDirectDialer.http(loopback(started.port));
    await eventually(() => started.listener.connectionCount() === 2);
    const overHttp = await dialError(nodeDirectDialer.http(loopback(started.port)));
    expect(overHttp).toMatchObject({
      code: 'CONNECT_FAILED',
      details: { status: 503, code: 'LIMIT_REACHED' },
    });
    const overWs = await dialError(nodeDirectDialer.websocket(loopback(started.port)));
    expect(String(overWs)).toContain('503');
    expect(started.refused.map((r) => r.code)).toEqual(['LIMIT_REACHED', 'LIMIT_REACHED']);
    first.close('making room');
    await eventually(() => started.listener.connectionCount() === 1);
    const third = await nodeDirectDialer.websocket(loopback(started.port));
    await eventually(() => started.listener.connectionCount() === 2);
    third.close();
    second.close();
    await eventually(() => started.listener.connectionCount() === 0);
  });

  for (const kind of ['websocket', 'http'] as const) {
    it(`${kind}: a client that connects and says nothing is dropped after the handshake timeout`, async () => {
      const { a } = await pairedMeshes(peers);
      const started = await startListener(a, cleanups, { handshakeTimeoutMs: 300 });
      const raw = await nodeDirectDialer[kind](loopback(started.port));
      const end = await closed(raw);
      expect(end.reason).toContain('TIMEOUT');
      await eventually(() => started.refused.length === 1);
      expect(started.refused[0]).toMatchObject({ address: '127.0.0.1', code: 'TIMEOUT' });
      expect(started.sessions).toEqual([]);
      await eventually(() => started.listener.connectionCount() === 0);
    });
  }

  it('a tunnel opened and never polled is dropped after the handshake timeout', async () => {
    const { a } = await pairedMeshes(peers);
    const started = await startListener(a, cleanups, {
      handshakeTimeoutMs: 100,
      idleTimeoutMs: 300,
      pollMs: 50,
    });
    const opened = await fetch(`http://127.0.0.1:${started.port}/meshsync/v1/tunnel`, {
      method: 'POST',
    });
    expect(opened.status).toBe(201);
    await eventually(() => started.refused.length === 1);
    expect(started.refused[0]?.code).toBe('TIMEOUT');
    await eventually(() => started.listener.connectionCount() === 0);
  });

  it('a TCP connection that sends no request is dropped after the handshake timeout', async () => {
    const { a } = await pairedMeshes(peers);
    const started = await startListener(a, cleanups, { handshakeTimeoutMs: 200 });
    const socket = tcpConnect(started.port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.resume();
    await new Promise((resolve) => socket.once('close', resolve));
    expect(socket.destroyed).toBe(true);
  });

  it('stop() closes sockets, tunnels and their sessions, and is idempotent', async () => {
    const { a, b } = await pairedMeshes(peers);
    const started = await startListener(a, cleanups);
    const ws = await dialMesh(b, 'websocket', started.port);
    const http = await dialMesh(b, 'http', started.port);
    await Promise.all([ws.whenReady(), http.whenReady()]);
    const ends = [ws, http].map(
      (s) => new Promise((resolve) => s.events.on('closed', () => resolve(s.status().closeReason))),
    );
    await Promise.all([started.listener.stop(), started.listener.stop()]);
    // The WebSocket reads the close frame; the tunnel its goodbye, or a 503 when no poll was held.
    for (const reason of await Promise.all(ends)) expect(reason).toContain('endpoint stopped');
    expect(started.listener.connectionCount()).toBe(0);
    expect(await rejectionCode(nodeDirectDialer.http(loopback(started.port)))).toBe(
      'CONNECT_FAILED',
    );
    await started.listener.stop();
  });
});
