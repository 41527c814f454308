import type { MeshManager } from '../../peer/manager/mesh-manager.js';
import type { SessionSource } from '../../peer/manager/manager-types.js';
import { Mesh } from '../../peer/mesh/mesh.js';
import { createPeer, type Peer } from '../../peer/peer.js';
import { MemoryStore } from '../../peer/store/memory-store.js';
import type { SyncSession } from '../../peer/sync/session.js';
import type { SyncOptions } from '../../peer/sync/session-types.js';
import type { DirectDialer } from '../../peer/transport/direct-dialer.js';
import { createMemoryTransportPair } from '../../peer/transport/memory-transport.js';
import type { Transport, TransportEvents } from '../../peer/transport/transport-port.js';
import { Emitter } from '../../shared/emitter.js';
import { MeshsyncError } from '../../shared/errors.js';
import { silentLogger } from '../../shared/log.js';
import type { Endpoint } from '../../shared/token/endpoint.js';

type Kind = 'websocket' | 'http';

/** A memory transport dressed as another kind, whose delivery a test can cut silently. */
class NetTransport implements Transport {
  readonly streaming = true;
  constructor(
    readonly kind: Kind,
    private readonly inner: Transport,
    private readonly net: MemoryNet,
  ) {}
  send(frame: Uint8Array): Promise<void> {
    // A black hole: the frame is accepted and never arrives, like a dead NAT mapping.
    if (this.net.blackhole) return Promise.resolve();
    return this.inner.send(frame);
  }
  close(reason?: string): void {
    this.inner.close(reason);
  }
  on<K extends keyof TransportEvents>(
    event: K,
    listener: (payload: TransportEvents[K]) => void,
  ): () => void {
    return this.inner.on(event, listener);
  }
}

interface Listening {
  mesh: Mesh;
  sessions: Emitter<{ session: SyncSession }>;
  sync: SyncOptions;
}

/**
 * An in-process network for the mesh manager's tests: devices "listen" on made-up endpoints,
 * dialers reach them over memory pairs labelled websocket or http, and the test can refuse a
 * kind (as a firewall would), take a listener away, or make every path a black hole.
 */
export class MemoryNet {
  private readonly listening = new Map<string, Listening>();
  readonly refused = new Set<Kind>();
  blackhole = false;
  dials = 0;

  listen(mesh: Mesh, endpoint: Endpoint, sync: SyncOptions = {}): SessionSource {
    const sessions = new Emitter<{ session: SyncSession }>();
    this.listening.set(key(endpoint), { mesh, sessions, sync });
    return { on: (event, listener) => sessions.on(event, listener) };
  }

  unlisten(endpoint: Endpoint): void {
    this.listening.delete(key(endpoint));
  }

  dialer(): DirectDialer {
    const dial = async (kind: Kind, endpoint: Endpoint): Promise<Transport> => {
      this.dials++;
      await new Promise((r) => setTimeout(r, 1));
      const target = this.listening.get(key(endpoint));
      if (!target) throw new MeshsyncError('CONNECT_FAILED', `connection refused (${kind})`);
      if (this.refused.has(kind)) throw new MeshsyncError('CONNECT_FAILED', `${kind} blocked`);
      const [near, far] = createMemoryTransportPair();
      const local = new NetTransport(kind, near, this);
      const remote = new NetTransport(kind, far, this);
      target.mesh
        .connect(remote, target.sync)
        .then((session) => target.sessions.emit('session', session))
        .catch(() => remote.close('handshake failed'));
      return local;
    };
    return {
      websocket: (endpoint) => dial('websocket', endpoint),
      http: (endpoint) => dial('http', endpoint),
    };
  }
}

const key = (e: Endpoint): string => `${e.host}:${e.port}`;

/** `count` devices of one mesh (each joined through the first), member lists synced. */
export async function meshOf(count: number, peers: Peer[]): Promise<Mesh[]> {
  const device = async (): Promise<Peer> => {
    const peer = await createPeer({ store: new MemoryStore(), logger: silentLogger });
    peers.push(peer);
    return peer;
  };
  const first = await Mesh.create(await device(), { name: 'd0' });
  const meshes = [first];
  for (let k = 1; k < count; k++) {
    const [t1, t2] = createMemoryTransportPair();
    const [session, joined] = await Promise.all([
      first.connect(t1),
      Mesh.join(await device(), await first.invite(), t2, { name: `d${k}` }),
    ]);
    await joined.session.sync();
    await session.sync();
    t1.close('paired');
    meshes.push(joined.mesh);
  }
  // Everyone learns every member: one more round from the first device.
  for (const mesh of meshes.slice(1)) {
    const [t1, t2] = createMemoryTransportPair();
    const [s1, s2] = await Promise.all([first.connect(t1), mesh.connect(t2)]);
    await Promise.all([s1.sync(), s2.sync()]);
    t1.close('synced');
  }
  return meshes;
}

/** Waits until both managers keep a session with each other (the same one, seen from both). */
export function connectedKinds(a: MeshManager, b: MeshManager): [string | null, string | null] {
  return [a.session(b.device)?.transport.kind ?? null, b.session(a.device)?.transport.kind ?? null];
}
