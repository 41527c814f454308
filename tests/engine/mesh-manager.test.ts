import { afterEach, describe, expect, it } from 'vitest';
import { MeshManager } from '../../peer/manager/mesh-manager.js';
import type { MeshManagerOptions } from '../../peer/manager/manager-types.js';
import type { Mesh } from '../../peer/mesh/mesh.js';
import type { Peer } from '../../peer/peer.js';
import type { Endpoint } from '../../shared/token/endpoint.js';
import { MemoryNet, connectedKinds, meshOf } from '../support/memory-net.js';
import { eventually } from '../support/peers.js';

const peers: Peer[] = [];
const managers: MeshManager[] = [];

afterEach(async () => {
  for (const m of managers.splice(0)) m.stop();
  for (const p of peers.splice(0)) await p.stop();
});

const FAST: Partial<MeshManagerOptions> = {
  connectTimeoutMs: 500,
  heartbeatMs: 150,
  heartbeatTimeoutMs: 300,
  upgradeRetryMs: 300,
  backoff: { initialMs: 40, maxMs: 200 },
};

const at = (port: number): Endpoint => ({ host: '10.0.0.1', port });

function manager(mesh: Mesh, net: MemoryNet, extra: Partial<MeshManagerOptions> = {}): MeshManager {
  const m = new MeshManager({ mesh, dialer: net.dialer(), ...FAST, ...extra });
  managers.push(m);
  return m;
}

async function same(a: Mesh, b: Mesh, collection = 't'): Promise<boolean> {
  const la = await a.peer.collection(collection).list();
  const lb = await b.peer.collection(collection).list();
  return JSON.stringify(la) === JSON.stringify(lb);
}

describe('mesh manager', () => {
  it('dials a listening member over WebSocket, and either side changes reach the other', async () => {
    const [a, b] = (await meshOf(2, peers)) as [Mesh, Mesh];
    const net = new MemoryNet();
    const mb = manager(b, net, { listener: net.listen(b, at(1)) });
    const ma = manager(a, net);
    await mb.start();
    await ma.start();
    ma.addEndpoints(b.device, [at(1)]);
    await eventually(() => connectedKinds(ma, mb).join() === 'websocket,websocket');
    // Only A can reach B; a change on B still reaches A, and one on A reaches B.
    await b.peer.collection('t').put('from-b', { v: 1 });
    await a.peer.collection('t').put('from-a', { v: 2 });
    await eventually(async () => (await a.peer.collection('t').get('from-b')) !== null);
    await eventually(async () => (await b.peer.collection('t').get('from-a')) !== null);
    const status = ma.status();
    expect(status.summary).toBe('connected to 1 device');
    expect(status.peers[0]).toMatchObject({
      device: b.device,
      state: 'connected',
      transport: 'websocket',
      startedBy: 'us',
    });
    expect(status.peers[0]!.why).toContain('websocket: connected');
    expect(mb.status().peers[0]).toMatchObject({ transport: 'websocket', startedBy: 'them' });
  });

  it('falls back to HTTP when WebSocket is refused, saying why, and moves up when it is allowed', async () => {
    const [a, b] = (await meshOf(2, peers)) as [Mesh, Mesh];
    const net = new MemoryNet();
    net.refused.add('websocket');
    const mb = manager(b, net, { listener: net.listen(b, at(1)) });
    const ma = manager(a, net);
    await mb.start();
    await ma.start();
    ma.addEndpoints(b.device, [at(1)]);
    await eventually(() => ma.session(b.device)?.transport.kind === 'http');
    const peer = ma.status().peers[0]!;
    expect(peer.why).toMatch(/websocket: CONNECT_FAILED, .*websocket blocked.*; http: connected/);
    expect(peer.attempts.map((x) => [x.path, x.outcome])).toEqual([
      ['websocket', 'failed'],
      ['http', 'connected'],
    ]);
    await a.peer.collection('t').put('x', { over: 'http' });
    await eventually(async () => (await b.peer.collection('t').get('x')) !== null);
    net.refused.delete('websocket');
    await eventually(() => connectedKinds(ma, mb).join() === 'websocket,websocket', 5000);
    expect(ma.status().peers[0]!.why).toContain('moved up');
    // The HTTP session was closed on both sides: one session each.
    expect(a.peer.status().sessions.filter((s) => s.state !== 'closed')).toHaveLength(1);
    await eventually(
      () => b.peer.status().sessions.filter((s) => s.state !== 'closed').length === 1,
    );
  });

  it('two devices that dial each other at once keep the same single session', async () => {
    const [a, b] = (await meshOf(2, peers)) as [Mesh, Mesh];
    const net = new MemoryNet();
    const ma = manager(a, net, { listener: net.listen(a, at(1)) });
    const mb = manager(b, net, { listener: net.listen(b, at(2)) });
    await Promise.all([ma.start(), mb.start()]);
    ma.addEndpoints(b.device, [at(2)]);
    mb.addEndpoints(a.device, [at(1)]);
    await eventually(() => connectedKinds(ma, mb).join() === 'websocket,websocket');
    await new Promise((r) => setTimeout(r, 200));
    expect(ma.session(b.device)?.state).toBe('ready');
    // The session A keeps is the one B keeps: the same pipe, seen from both ends.
    const starter = a.device < b.device ? 'us' : 'them';
    expect(ma.status().peers[0]!.startedBy).toBe(starter);
    expect(mb.status().peers[0]!.startedBy).toBe(starter === 'us' ? 'them' : 'us');
    expect(a.peer.status().sessions.filter((s) => s.state === 'ready')).toHaveLength(1);
    expect(b.peer.status().sessions.filter((s) => s.state === 'ready')).toHaveLength(1);
  });

  it('reconnects with backoff after the other device goes away, and converges', async () => {
    const [a, b] = (await meshOf(2, peers)) as [Mesh, Mesh];
    const net = new MemoryNet();
    const source = net.listen(b, at(1));
    const mb = manager(b, net, { listener: source });
    const ma = manager(a, net);
    await Promise.all([ma.start(), mb.start()]);
    ma.addEndpoints(b.device, [at(1)]);
    await eventually(() => ma.session(b.device) !== null);
    // B "restarts": its listener is gone and its sessions close.
    net.unlisten(at(1));
    mb.stop();
    await eventually(() => ma.status().peers[0]!.state === 'waiting');
    const waiting = ma.status().peers[0]!;
    expect(waiting.why).toMatch(/lost the websocket session|refused/);
    expect(waiting.retryAt).not.toBeNull();
    const dialsBefore = net.dials;
    await new Promise((r) => setTimeout(r, 400));
    expect(net.dials - dialsBefore).toBeGreaterThan(0); // it keeps trying...
    expect(net.dials - dialsBefore).toBeLessThan(12); // ...with growing delays, not in a loop
    await b.peer.collection('t').put('while-away', { v: 1 });
    const mb2 = manager(b, net, { listener: net.listen(b, at(1)) });
    await mb2.start();
    await eventually(() => ma.session(b.device)?.state === 'ready', 3000);
    await eventually(() => same(a, b));
    expect(await a.peer.collection('t').get('while-away')).toEqual({ v: 1 });
  });

  it('a silent path is found dead by the heartbeat and replaced', async () => {
    const [a, b] = (await meshOf(2, peers)) as [Mesh, Mesh];
    const net = new MemoryNet();
    const mb = manager(b, net, { listener: net.listen(b, at(1)) });
    const ma = manager(a, net);
    await Promise.all([ma.start(), mb.start()]);
    ma.addEndpoints(b.device, [at(1)]);
    await eventually(() => ma.session(b.device)?.state === 'ready');
    const first = ma.session(b.device);
    const whys: string[] = [];
    for (const m of [ma, mb]) m.on('peer', (p) => whys.push(p.why));
    net.blackhole = true;
    // Whichever side's heartbeat notices first closes the session, and says why.
    await eventually(() => first?.state === 'closed', 3000);
    expect(whys.some((w) => /lost the websocket session: no answer to a heartbeat/.test(w))).toBe(
      true,
    );
    net.blackhole = false;
    await eventually(() => {
      const s = ma.session(b.device);
      return s !== null && s !== first && s.state === 'ready';
    }, 3000);
    expect(first?.state).toBe('closed');
  });

  it('keeps at most maxPeers devices, and takes the next when one leaves', async () => {
    const [a, b, c] = (await meshOf(3, peers)) as [Mesh, Mesh, Mesh];
    const net = new MemoryNet();
    const mb = manager(b, net, { listener: net.listen(b, at(2)) });
    const mc = manager(c, net, { listener: net.listen(c, at(3)) });
    const ma = manager(a, net, { maxPeers: 1 });
    await Promise.all([ma.start(), mb.start(), mc.start()]);
    ma.addEndpoints(b.device, [at(2)]);
    ma.addEndpoints(c.device, [at(3)]);
    await eventually(() => ma.status().connected === 1);
    await new Promise((r) => setTimeout(r, 200));
    const status = ma.status();
    expect(status.connected).toBe(1);
    const waiting = status.peers.find((p) => p.state !== 'connected')!;
    expect(waiting.why).toContain('maxPeers');
    const connected = status.peers.find((p) => p.state === 'connected')!;
    (connected.device === b.device ? mb : mc).stop();
    net.unlisten(connected.device === b.device ? at(2) : at(3));
    await eventually(() => ma.session(waiting.device)?.state === 'ready', 3000);
  });

  it('learns where members listen from the mesh itself', async () => {
    const [a, b, c] = (await meshOf(3, peers)) as [Mesh, Mesh, Mesh];
    const net = new MemoryNet();
    const mc = manager(c, net, { listener: net.listen(c, at(3)), endpoints: () => [at(3)] });
    await mc.start();
    // C's record reaches B through A (memory pairs, no manager), then B dials C on its own.
    const { createMemoryTransportPair } = await import('../../peer/transport/memory-transport.js');
    for (const [x, y] of [
      [c, a],
      [a, b],
    ] as const) {
      const [t1, t2] = createMemoryTransportPair();
      const [s1, s2] = await Promise.all([x.connect(t1), y.connect(t2)]);
      await Promise.all([s1.sync(), s2.sync()]);
      t1.close('done');
    }
    const mb = manager(b, net);
    await mb.start();
    await eventually(() => mb.session(c.device)?.state === 'ready');
    expect(mb.status().peers.find((p) => p.device === c.device)).toMatchObject({
      endpoints: [at(3)],
      endpointSources: ['mesh'],
    });
  });

  it('does not connect to a revoked device', async () => {
    const [a, b] = (await meshOf(2, peers)) as [Mesh, Mesh];
    const net = new MemoryNet();
    const mb = manager(b, net, { listener: net.listen(b, at(1)), endpoints: () => [at(1)] });
    await mb.start();
    // A learns B's endpoint from the mesh, then revokes B.
    const { createMemoryTransportPair } = await import('../../peer/transport/memory-transport.js');
    const [t1, t2] = createMemoryTransportPair();
    const [s1, s2] = await Promise.all([a.connect(t1), b.connect(t2)]);
    await Promise.all([s1.sync(), s2.sync()]);
    t1.close('done');
    await a.revoke(b.device);
    const ma = manager(a, net);
    await ma.start();
    await new Promise((r) => setTimeout(r, 200));
    expect(ma.session(b.device)).toBeNull();
    expect(ma.status().peers.find((p) => p.device === b.device)).toMatchObject({
      state: 'idle',
    });
    expect(net.dials).toBe(0);
  });

  it('refuses bad options with INVALID_OPTION', async () => {
    const [a] = (await meshOf(1, peers)) as [Mesh];
    expect(() => new MeshManager({ mesh: a, maxPeers: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION' }),
    );
    expect(() => new MeshManager({ mesh: a, heartbeatMs: Number.NaN })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION' }),
    );
  });
});
