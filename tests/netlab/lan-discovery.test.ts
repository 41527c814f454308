import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLab, labAvailable, type Lab, type LabHost } from '../support/netns.js';
import type { ManagerChildConfig } from './fixtures/manager-peer-child.js';
import { hostilePackets, sendRaw } from './hostile-mdns.js';
import { DIRECT_PORT, LabPeer, pairedDbs, strangerDb, until } from './manager-lab.js';

/*
 * LAN discovery on a real (namespaced) LAN: hosts joined by a veth or a bridge, multicast on
 * the wire, no signaling server anywhere. Each host runs a whole peer in a child process
 * (SQLite, direct listener, mesh manager, LanDiscovery on every suitable interface).
 */

/** The budget: found and synced within 3 s of starting. */
const BUDGET_MS = 3000;
const labs: Lab[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const lab of labs.splice(0)) await lab.destroy();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function setup(hosts: number, subnet: string): Promise<{ lab: Lab; dir: string }> {
  const lab = await createLab({ subnet, hosts });
  labs.push(lab);
  const dir = mkdtempSync(join(tmpdir(), 'meshsync-mdns-'));
  dirs.push(dir);
  return { lab, dir };
}

/** A peer with discovery on, its own record seeded, and `t`'s count reported. */
function member(lab: Lab, host: LabHost, db: string, extra: Partial<ManagerChildConfig> = {}) {
  return new LabPeer(lab, host, {
    db,
    listen: { host: host.ip, port: DIRECT_PORT },
    mdns: {},
    seed: { collection: 't', id: `from-${host.name}` },
    watch: 't',
    ...extra,
  });
}

/** The epoch ms at which `peer` first held `n` records of `t`. */
/** When `peer` found `device` on the LAN (its own clock, ms since the epoch). */
async function found(peer: LabPeer, device: string): Promise<number> {
  const line = await peer.next((l) => l.event === 'found' && l.device === device, 20_000);
  return Number(line.at);
}

async function holds(peer: LabPeer, n: number): Promise<number> {
  const line = await peer.next((l) => l.event === 'count' && Number(l.count) >= n, 20_000);
  return Number(line.at);
}

const readyAt = async (peer: LabPeer): Promise<number> => {
  await peer.ready();
  return Number(peer.lines.find((l) => l.event === 'ready')!.at);
};

interface DiscoveryStatus {
  peers: Array<{ device: string }>;
  ignored: Record<string, number>;
  received: number;
}

async function discovery(peer: LabPeer): Promise<DiscoveryStatus> {
  return (await peer.ask({ op: 'status' })).discovery as DiscoveryStatus;
}

if (process.env.MESHSYNC_REQUIRE_NETLAB === '1' && !labAvailable()) {
  it('a network lab can be made (MESHSYNC_REQUIRE_NETLAB)', () => {
    throw new Error('no network lab: see tests/netlab/stray-traffic.test.ts');
  });
}

describe.skipIf(!labAvailable())('LAN discovery (mDNS) with no signaling server', () => {
  it('two and then three peers find each other and sync, each within 3 s of starting', async () => {
    const { lab, dir } = await setup(3, '10.81.0');
    const dbs = await pairedDbs(dir, 3);
    const [ha, hb, hc] = lab.hosts as [LabHost, LabHost, LabHost];
    const a = member(lab, ha, dbs.all[0]!);
    const b = member(lab, hb, dbs.all[1]!);
    const [readyA, readyB] = await Promise.all([readyAt(a), readyAt(b)]);
    // Neither can be found before both run: the clock starts when the later one is ready.
    const pairStart = Math.max(readyA, readyB);
    const pair = [(await holds(a, 2)) - pairStart, (await holds(b, 2)) - pairStart];
    const c = member(lab, hc, dbs.all[2]!);
    const readyC = await readyAt(c);
    const trio = [
      (await holds(a, 3)) - readyC,
      (await holds(b, 3)) - readyC,
      (await holds(c, 3)) - readyC,
    ];
    // Found, too: C may sync A's records through B before it hears A itself (A answers queries
    // at most once a second), so each finding is timed on its own.
    const finds = [
      (await found(a, b.device)) - pairStart,
      (await found(b, a.device)) - pairStart,
      ...(await Promise.all([found(c, a.device), found(c, b.device), found(a, c.device)])).map(
        (at) => at - readyC,
      ),
    ];
    console.log(
      `netlab mdns: synced, 2 peers: ${pair.join(', ')} ms; 3 peers: ${trio.join(', ')} ms; found: ${finds.join(', ')} ms`,
    );
    for (const ms of [...pair, ...trio, ...finds]) expect(ms).toBeLessThanOrEqual(BUDGET_MS);
    // Over the direct WebSocket, with the endpoint from mDNS.
    const status = await a.peerStatus(c.device);
    expect(status).toMatchObject({ state: 'connected', transport: 'websocket' });
    expect(status?.endpointSources).toContain('mdns');
    expect((await discovery(c)).peers.map((p) => p.device).sort()).toEqual(
      [a.device, b.device].sort(),
    );
  }, 90_000);

  it('a stranger advertising with a wrong mesh tag is ignored and never dialed; a member that stops says goodbye', async () => {
    const { lab, dir } = await setup(3, '10.82.0');
    const dbs = await pairedDbs(dir, 2);
    const stranger = new LabPeer(lab, lab.hosts[2]!, {
      db: await strangerDb(dir),
      listen: { host: lab.hosts[2]!.ip, port: DIRECT_PORT },
      mdns: {},
    });
    const s = await stranger.ready();
    const a = member(lab, lab.a, dbs.a);
    const b = member(lab, lab.b, dbs.b);
    await Promise.all([a.ready(), b.ready()]);
    await holds(a, 2);
    await holds(b, 2);
    // The stranger's announcements reached A (and were refused by their tag)...
    await until('the stranger heard and refused', async () => {
      return ((await discovery(a)).ignored['wrong-tag'] ?? 0) > 0;
    });
    // ...so A knows it only as a refused tag: not found, not fed, never dialed.
    expect((await discovery(a)).peers.map((p) => p.device)).toEqual([b.device]);
    expect(await a.peerStatus(s)).toBeUndefined();
    const strangerStatus = await stranger.ask({ op: 'status' });
    expect(strangerStatus.refused).toBe(0);
    expect((strangerStatus.status as { peers: unknown[] }).peers).toEqual([]);

    // B stops: its goodbye reaches A at once (its records' TTL is 120 s).
    await b.stop();
    const lost = await a.next((l) => l.event === 'lost' && l.device === b.device);
    expect(lost.reason).toBe('goodbye');
    expect((await discovery(a)).peers).toEqual([]);
    expect((await a.peerStatus(b.device))?.endpointSources ?? []).not.toContain('mdns');
  }, 90_000);

  it('a peer on another LAN (a lab not joined to this one) is not found', async () => {
    const one = await setup(2, '10.83.0');
    const other = await setup(2, '10.83.0'); // the same addresses, but another wire
    const dbs = await pairedDbs(one.dir, 3);
    // B is a member too, but lives on the other LAN; it starts first.
    const far = member(other.lab, other.lab.a, dbs.all[2]!);
    await far.ready();
    const a = member(one.lab, one.lab.a, dbs.a);
    const near = member(one.lab, one.lab.b, dbs.b);
    await Promise.all([a.ready(), near.ready()]);
    // A found its neighbour: its queries went out and were answered on its own LAN.
    await holds(a, 2);
    await a.next((l) => l.event === 'found' && l.device === near.device);
    expect((await discovery(a)).peers.map((p) => p.device)).toEqual([near.device]);
    expect((await discovery(far)).peers).toEqual([]);
    expect(await a.peerStatus(far.device)).toBeUndefined();
  }, 90_000);

  it('malformed and hostile mDNS packets are ignored without crashing, and counted', async () => {
    const { lab, dir } = await setup(2, '10.84.0');
    const dbs = await pairedDbs(dir, 2);
    const a = member(lab, lab.a, dbs.a);
    await a.ready();
    const packets = hostilePackets();
    const sent = await sendRaw(lab, lab.b, packets);
    expect(sent).toBe(packets.length);
    await until('the barrage counted', async () => {
      const { ignored } = await discovery(a);
      return ['undecodable', 'too-large', 'too-many-records', 'malformed', 'wrong-tag'].every(
        (reason) => (ignored[reason] ?? 0) > 0,
      );
    });
    const status = await discovery(a);
    console.log(
      `netlab mdns: ${packets.length} hostile packets, ignored ${JSON.stringify(status.ignored)}`,
    );
    expect(status.peers).toEqual([]);
    expect((await a.ask({ op: 'status' })).status).toMatchObject({ peers: [] });
    // Still working: a member that starts now is found and synced.
    const b = member(lab, lab.b, dbs.b);
    await b.ready();
    await holds(a, 2);
    expect(a.exited).toBe(false);
  }, 90_000);
});
