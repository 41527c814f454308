/**
 * The sending side of the rtc sync runs: peer A holding the records, and for each run a fresh,
 * empty B and the way the two connect over a transport pair. `plain`: two bare peers and a
 * plain sync session (frames go to the transport as they are). `secure`: two devices of one
 * mesh and the mesh's secure session, as `RtcConnector` runs it (frames are sealed before the
 * transport sees them).
 */
import { Mesh } from '../peer/mesh/mesh.js';
import { createPeer, type Peer } from '../peer/peer.js';
import { MemoryStore } from '../peer/store/memory-store.js';
import type { SyncSession } from '../peer/sync/session.js';
import { createMemoryTransportPair } from '../peer/transport/memory-transport.js';
import type { Transport } from '../peer/transport/transport-port.js';
import { silentLogger } from '../shared/log.js';
import { COLLECTION } from './fixture.js';
import type { Task } from './records.js';

export type SessionKind = 'plain' | 'secure';

/** One run's receiver. */
export interface Receiver {
  peer: Peer;
  /** A's session and B's over `ta` (A's end) and `tb`, both ready, without automatic pulls. */
  connect(ta: Transport, tb: Transport): Promise<[SyncSession, SyncSession]>;
}

export interface Source {
  kind: SessionKind;
  /** A, holding the records. */
  sender: Peer;
  /** A fresh, empty B for one run (stop its peer after the run). */
  receiver(): Promise<Receiver>;
  stop(): Promise<void>;
}

const NO_PULL = { autoPull: false } as const;

function newPeer(): Promise<Peer> {
  return createPeer({ store: new MemoryStore(), logger: silentLogger });
}

async function seed(peer: Peer, tasks: readonly Task[]): Promise<void> {
  await peer.collection(COLLECTION).putMany(tasks.map((t) => [t.id, t.value] as const));
}

export async function plainSource(tasks: readonly Task[]): Promise<Source> {
  const a = await newPeer();
  await seed(a, tasks);
  return {
    kind: 'plain',
    sender: a,
    receiver: async () => {
      const b = await newPeer();
      return {
        peer: b,
        connect: async (ta, tb) => {
          const sessions: [SyncSession, SyncSession] = [
            a.connect(ta, NO_PULL),
            b.connect(tb, NO_PULL),
          ];
          await Promise.all(sessions.map((s) => s.whenReady()));
          return sessions;
        },
      };
    },
    stop: () => a.stop(),
  };
}

/** B joins `a`'s mesh over a memory pair (without pulling anything) and is let go. */
export async function joinMember(a: Mesh, name: string): Promise<Mesh> {
  const [t1, t2] = createMemoryTransportPair();
  const [session, joined] = await Promise.all([
    a.connect(t1, NO_PULL),
    Mesh.join(await newPeer(), await a.invite(), t2, { name, sync: NO_PULL }),
  ]);
  await Promise.all([session.whenReady(), joined.session.whenReady()]);
  session.close('joined');
  return joined.mesh;
}

/**
 * A mesh device A with the records, and `members` devices that joined it before it got them
 * (a member joining later would pull them all while joining).
 */
export async function secureSource(tasks: readonly Task[], members: number): Promise<Source> {
  const a = await Mesh.create(await newPeer(), { name: 'A' });
  const pool: Mesh[] = [];
  for (let i = 0; i < members; i++) pool.push(await joinMember(a, `B${i}`));
  await seed(a.peer, tasks);
  return {
    kind: 'secure',
    sender: a.peer,
    receiver: () => {
      const b = pool.pop();
      if (!b) throw new Error('rtc: no joined member left for a secure run');
      return Promise.resolve({
        peer: b.peer,
        connect: async (ta, tb) => {
          const sessions = await Promise.all([a.connect(ta, NO_PULL), b.connect(tb, NO_PULL)]);
          await Promise.all(sessions.map((s) => s.whenReady()));
          return sessions;
        },
      });
    },
    stop: async () => {
      for (const b of pool.splice(0)) await b.peer.stop();
      await a.peer.stop();
    },
  };
}
