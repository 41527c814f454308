import { afterEach, describe, expect, it } from 'vitest';
import { Mesh } from '../../peer/mesh/mesh.js';
import { nodeWebSocket } from '../../peer/node/web-socket.js';
import type { Peer } from '../../peer/peer.js';
import { createPeer } from '../../peer/peer.js';
import { SecureTransport } from '../../peer/secure/secure-transport.js';
import { MemoryStore } from '../../peer/store/memory-store.js';
import { createDirectDialer } from '../../peer/transport/direct-dialer.js';
import type { FetchLike } from '../../peer/transport/fetch-port.js';
import { silentLogger } from '../../shared/log.js';
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

async function device(): Promise<Peer> {
  const peer = await createPeer({ store: new MemoryStore(), logger: silentLogger });
  peers.push(peer);
  return peer;
}

const KINDS = ['websocket', 'http'] as const;

describe('direct listener: members sync over WebSocket and HTTP', () => {
  for (const kind of KINDS) {
    it(`${kind}: two members sync, each side pulling and pushing`, async () => {
      const { a, b } = await pairedMeshes(peers);
      for (let k = 0; k < 120; k++) await a.peer.collection('t').put(`a${k}`, { k });
      for (let k = 0; k < 80; k++) await b.peer.collection('t').put(`b${k}`, { k });
      const started = await startListener(a, cleanups, { sync: { autoPull: false } });
      const sb = await dialMesh(b, kind, started.port, { autoPull: false, pageRows: 30 });
      await sb.whenReady();
      await eventually(() => started.sessions.length === 1);
      const sa = started.sessions[0]!;
      expect(sa.remoteDevice).toBe(b.device);
      expect(sb.remoteDevice).toBe(a.device);
      expect(sb.status().transport).toBe(kind);
      await Promise.all([sb.pull(), sb.push(), sa.pull(), sa.push()]);
      const list = (p: Peer) => p.collection('t').list({ limit: 1000 });
      expect((await list(a.peer)).length).toBe(200);
      expect(await list(b.peer)).toEqual(await list(a.peer));
      expect(started.listener.connectionCount()).toBe(1);
      sb.close('done');
      await eventually(() => started.listener.connectionCount() === 0);
    });

    it(`${kind}: a change on the listening side reaches the dialing side with no pull called`, async () => {
      const { a, b } = await pairedMeshes(peers);
      const started = await startListener(a, cleanups);
      const sb = await dialMesh(b, kind, started.port);
      await sb.whenReady();
      await eventually(() => started.sessions.length === 1);
      await a.peer.collection('notes').put('n1', { text: 'from the listener' });
      await eventually(async () => (await b.peer.collection('notes').get('n1')) !== null, 10_000);
      expect(await b.peer.collection('notes').get('n1')).toEqual({ text: 'from the listener' });
      // And the other way: the dialer's change reaches the listener on its own too.
      await b.peer.collection('notes').put('n2', { text: 'from the dialer' });
      await eventually(async () => (await a.peer.collection('notes').get('n2')) !== null, 10_000);
    });
  }

  it('a device joins the mesh with an invite over the listener', async () => {
    const a = await Mesh.create(await device(), { name: 'A' });
    await a.peer.collection('notes').put('n1', { text: 'welcome' });
    const started = await startListener(a, cleanups);
    const raw = await createDirectDialer({
      webSocket: nodeWebSocket,
      fetch: (url, init) => fetch(url, init),
    }).http({ host: '127.0.0.1', port: started.port });
    const joined = await Mesh.join(await device(), await a.invite(), raw, { name: 'C' });
    await joined.session.pull();
    expect(await joined.mesh.peer.collection('notes').get('n1')).toEqual({ text: 'welcome' });
    expect((await a.members()).map((m) => m.name).sort()).toEqual(['A', 'C']);
  });
});

describe('direct listener: refusals by the handshake', () => {
  for (const kind of KINDS) {
    it(`${kind}: a device with the mesh secret but not a member is refused (AUTH_UNKNOWN_DEVICE)`, async () => {
      const { a } = await pairedMeshes(peers);
      const thief = await device();
      await thief.replica.store.setMeta('mesh', (await a.peer.replica.store.getMeta('mesh'))!);
      const stolen = (await Mesh.open(thief))!;
      const started = await startListener(a, cleanups);
      expect(await rejectionCode(dialMesh(stolen, kind, started.port))).toBe('AUTH_UNKNOWN_DEVICE');
      await eventually(() => started.refused.length === 1);
      expect(started.refused[0]).toMatchObject({
        address: '127.0.0.1',
        code: 'AUTH_UNKNOWN_DEVICE',
      });
      expect(started.sessions).toEqual([]);
      await eventually(() => started.listener.connectionCount() === 0);
    });

    it(`${kind}: a revoked device is refused (AUTH_REVOKED)`, async () => {
      const { a, b } = await pairedMeshes(peers);
      await a.revoke(b.device);
      const started = await startListener(a, cleanups);
      expect(await rejectionCode(dialMesh(b, kind, started.port))).toBe('AUTH_REVOKED');
      await eventually(() => started.refused.length === 1);
      expect(started.refused[0]?.code).toBe('AUTH_REVOKED');
      expect(started.sessions).toEqual([]);
    });
  }

  it('a device of another mesh is refused (AUTH_FAILED)', async () => {
    const { a } = await pairedMeshes(peers);
    const other = await Mesh.create(await device(), { name: 'X' });
    const started = await startListener(a, cleanups);
    expect(await rejectionCode(dialMesh(other, 'websocket', started.port))).toBe('AUTH_FAILED');
    expect(started.sessions).toEqual([]);
  });
});

describe('direct listener: end-to-end encryption', () => {
  it('frames are sealed: captured HTTP bodies hold no record plaintext', async () => {
    const { a, b } = await pairedMeshes(peers);
    const secret = 'the-plaintext-of-a-record-0451';
    await a.peer.collection('notes').put('n1', { text: secret });
    await b.peer.collection('notes').put('n2', { text: `${secret}-reverse` });
    const bodies: Uint8Array[] = [];
    const recording: FetchLike = async (url, init) => {
      bodies.push(init.body);
      const response = await fetch(url, init);
      const body = new Uint8Array(await response.arrayBuffer());
      bodies.push(body);
      return {
        status: response.status,
        headers: response.headers,
        body: new Blob([body]).stream(),
      };
    };
    const dialer = createDirectDialer({ webSocket: nodeWebSocket, fetch: recording });
    const started = await startListener(a, cleanups);
    const sb = await dialMesh(b, 'http', started.port, {}, dialer);
    await sb.sync();
    expect(await b.peer.collection('notes').get('n1')).toEqual({ text: secret });
    expect(sb.transport).toBeInstanceOf(SecureTransport);
    expect((sb.transport as SecureTransport).encrypted).toBe(true);
    await eventually(() => started.sessions.length === 1);
    expect((started.sessions[0]!.transport as SecureTransport).encrypted).toBe(true);
    const wire = bodies.map((f) => new TextDecoder().decode(f)).join('');
    expect(bodies.length).toBeGreaterThan(4);
    expect(wire.includes(secret)).toBe(false);
    expect(wire.includes('notes')).toBe(false);
  });
});
