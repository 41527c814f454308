import { expect } from 'vitest';
import { createPeer, type Peer } from '../../peer/peer.js';
import { MemoryStore } from '../../peer/store/memory-store.js';
import type { StorePort } from '../../peer/store/store-port.js';
import type { SyncSession } from '../../peer/sync/session.js';
import type { Stamp } from '../../shared/hlc.js';
import type { JsonValue } from '../../shared/json.js';
import { silentLogger } from '../../shared/log.js';
import type { StoredRecord } from '../../shared/record.js';
import { SimLink } from './sim-link.js';
import { VirtualTimers } from './virtual-timers.js';

export const COLLECTIONS = ['c1', 'c2'] as const;
export const IDS = ['k0', 'k1', 'k2', 'k3'] as const;
export const FIELDS = ['f1', 'f2', 'f3'] as const;
const BASE_TIME = 1_750_000_000_000;

export type SimAction =
  | {
      k: 'put' | 'patch';
      peer: number;
      c: number;
      id: number;
      fields: Array<[number, JsonValue | undefined]>;
    }
  | { k: 'delete'; peer: number; c: number; id: number }
  | { k: 'deliver'; link: number; dir: 0 | 1; index: number; count: number }
  | { k: 'duplicate' | 'drop'; link: number; dir: 0 | 1; index: number }
  | { k: 'cut' | 'heal'; link: number }
  | { k: 'sync'; link: number; side: 0 | 1; what: 'pull' | 'push' }
  | { k: 'tick'; ms: number };

interface AckedWrite {
  peer: number;
  c: string;
  id: string;
  kind: 'put' | 'patch' | 'delete';
  stamp: Stamp;
  fields: string[];
}

interface LiveLink {
  link: SimLink;
  sessions: [SyncSession, SyncSession];
}

/** Deterministic PRNG (mulberry32) for epochs, so a seed replays exactly. */
function prng(seed: number): (n: number) => Uint8Array {
  let a = seed >>> 0;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      out[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
    }
    return out;
  };
}

/**
 * Peers joined by SimLinks over virtual time. Actions are interpreted modulo what exists, so any
 * random action list is a valid schedule. `finish()` heals every link and checks convergence.
 */
export class MeshSim {
  readonly timers = new VirtualTimers();
  readonly peers: Peer[] = [];
  readonly live = new Map<number, LiveLink>();
  readonly acked: AckedWrite[] = [];
  readonly log: string[] = [];

  private constructor(readonly edges: ReadonlyArray<readonly [number, number]>) {}

  static async create(
    peerCount: number,
    edges: ReadonlyArray<readonly [number, number]>,
    skews: readonly number[],
    seed: number,
    makeStore: () => StorePort = () => new MemoryStore(),
  ): Promise<MeshSim> {
    const sim = new MeshSim(edges);
    const random = prng(seed);
    for (let p = 0; p < peerCount; p++) {
      const skew = skews[p % skews.length] ?? 0;
      sim.peers.push(
        await createPeer({
          store: makeStore(),
          device: `peer${p}x`,
          now: () => BASE_TIME + sim.timers.now + skew,
          random,
          logger: silentLogger,
          sync: {
            timers: sim.timers,
            logger: silentLogger,
            pageRows: 3,
            requestTimeoutMs: 1000,
            handshakeTimeoutMs: 2000,
            changedDebounceMs: 10,
            maxProtocolErrors: 1000,
          },
        }),
      );
    }
    for (let e = 0; e < edges.length; e++) sim.connect(e);
    await flush();
    return sim;
  }

  private connect(edge: number): void {
    const [x, y] = this.edges[edge]!;
    const link = new SimLink();
    const sx = this.peers[x]!.connect(link.ends[0]);
    const sy = this.peers[y]!.connect(link.ends[1]);
    this.live.set(edge, { link, sessions: [sx, sy] });
  }

  async run(action: SimAction): Promise<void> {
    this.log.push(JSON.stringify(action));
    const edge = 'link' in action ? action.link % this.edges.length : 0;
    const live = this.live.get(edge);
    switch (action.k) {
      case 'put':
      case 'patch':
      case 'delete':
        await this.write(action);
        break;
      case 'deliver':
        for (let n = 0; n < action.count; n++) live?.link.deliver(action.dir, action.index);
        break;
      case 'duplicate':
        live?.link.duplicate(action.dir, action.index);
        break;
      case 'drop':
        live?.link.drop(action.dir, action.index);
        break;
      case 'cut':
        live?.link.cut('partition');
        break;
      case 'heal':
        if (!live || live.link.cutDone) this.connect(edge);
        break;
      case 'sync': {
        const session = live?.sessions[action.side];
        session?.[action.what]().catch(() => undefined);
        break;
      }
      case 'tick':
        this.timers.advance(action.ms);
        break;
    }
    await flush();
  }

  private async write(
    action: Extract<SimAction, { k: 'put' | 'patch' | 'delete' }>,
  ): Promise<void> {
    const peer = this.peers[action.peer % this.peers.length]!;
    const c = COLLECTIONS[action.c % COLLECTIONS.length]!;
    const id = IDS[action.id % IDS.length]!;
    const col = peer.collection(c);
    let fields: string[] = [];
    try {
      if (action.k === 'delete') {
        if (!(await col.delete(id))) return;
      } else {
        const value: Record<string, JsonValue | undefined> = {};
        for (const [f, v] of action.fields) value[FIELDS[f % FIELDS.length]!] = v;
        const before = await peer.replica.store.get(col.name, id as never);
        const visible = Object.entries(before?.f ?? {}).filter(([, f]) => f.v !== undefined);
        const set = Object.keys(value).filter((key) => value[key] !== undefined);
        if (action.k === 'put') {
          for (const key of Object.keys(value)) if (value[key] === undefined) delete value[key];
          await col.put(id, value as Record<string, JsonValue>);
          // A put writes its fields; the rest goes with its `d` (checked as d >= stamp).
          fields = set;
        } else {
          await col.patch(id, value);
          // A patch writes its set fields and removes the named ones that were visible.
          const removed = visible
            .map(([name]) => name)
            .filter((name) => Object.hasOwn(value, name) && value[name] === undefined);
          fields = [...set, ...removed];
        }
      }
    } catch (err) {
      if ((err as { code?: string }).code === 'NOT_FOUND') return;
      throw err;
    }
    const rec = (await peer.replica.store.get(col.name, id as never))!;
    const stamp = action.k === 'delete' ? rec.d! : rec.a!;
    this.acked.push({
      peer: action.peer % this.peers.length,
      c,
      id,
      kind: action.k,
      stamp,
      fields,
    });
  }

  /** Heals the network with fresh links and lets the peers sync on their own until quiet. */
  async finish(): Promise<void> {
    for (const { link } of this.live.values()) link.cut('final heal');
    await flush();
    for (let e = 0; e < this.edges.length; e++) this.connect(e);
    let quiet = 0;
    for (let round = 0; round < 500 && quiet < 3; round++) {
      let moved = false;
      for (const { link } of this.live.values()) {
        while (link.deliver(0) || link.deliver(1)) moved = true;
      }
      await flush();
      this.timers.advance(20);
      await flush();
      const inFlight = [...this.live.values()].some(({ link }) => link.inFlight > 0);
      quiet = moved || inFlight ? 0 : quiet + 1;
    }
  }

  async dump(p: number): Promise<Record<string, unknown>> {
    const store = this.peers[p]!.replica.store;
    const out: Record<string, unknown> = {};
    let after = 0;
    for (;;) {
      const batch: StoredRecord[] = await store.changesSince(after, 100);
      if (batch.length === 0) break;
      for (const r of batch) {
        out[`${r.c}/${r.i}`] = { a: r.a, d: r.d, f: r.f };
        after = r.seq;
      }
    }
    return Object.fromEntries(Object.entries(out).sort(([x], [y]) => (x < y ? -1 : 1)));
  }

  /** Every peer holds the same state and every acknowledged write survives or was overtaken. */
  async checkConverged(): Promise<void> {
    const dumps = await Promise.all(this.peers.map((_, p) => this.dump(p)));
    for (let p = 1; p < dumps.length; p++) expect(dumps[p]).toEqual(dumps[0]);
    const final = dumps[0] as Record<
      string,
      { a: Stamp | null; d: Stamp | null; f: Record<string, { s: Stamp }> }
    >;
    for (const w of this.acked) {
      const rec = final[`${w.c}/${w.id}`];
      expect(rec, `write lost: ${JSON.stringify(w)}`).toBeDefined();
      if (w.kind === 'delete') {
        expect(rec!.d! >= w.stamp, `delete lost: ${JSON.stringify(w)}`).toBe(true);
        continue;
      }
      expect(rec!.a! >= w.stamp, `write lost: ${JSON.stringify(w)}`).toBe(true);
      if (w.kind === 'put')
        expect(rec!.d! >= w.stamp, `put's reset lost: ${JSON.stringify(w)}`).toBe(true);
      for (const f of w.fields) {
        const kept = rec!.f[f];
        const survived =
          (kept !== undefined && kept.s >= w.stamp) || (rec!.d !== null && rec!.d > w.stamp);
        expect(survived, `field ${f} of ${JSON.stringify(w)} lost`).toBe(true);
      }
    }
  }

  async stop(): Promise<void> {
    for (const peer of this.peers) await peer.stop();
  }
}

/** Lets every pending microtask and I/O callback run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
}
