import dnsPacket, { type Answer } from 'dns-packet';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DiscoveryTarget } from '../../peer/node/mdns/discovery-types.js';
import { LanDiscovery } from '../../peer/node/mdns/lan-discovery.js';
import type { InterfaceTable, LanInterface } from '../../peer/node/mdns/lan-interfaces.js';
import type { MdnsSocketHandlers, OpenMdnsSocket } from '../../peer/node/mdns/mdns-socket.js';
import { serviceRecords } from '../../peer/node/mdns/service-records.js';
import { currentMeshTag } from '../../shared/discovery/mesh-tag.js';
import type { DeviceId } from '../../shared/ids.js';

/*
 * LanDiscovery's behaviour over an in-memory LAN (no sockets, fake timers): every packet is
 * encoded and decoded with dns-packet and handed to every socket on the same subnet, the sender
 * included (multicast loopback), as the kernel would.
 */

class FakeLan {
  readonly sockets = new Set<{ iface: LanInterface; handlers: MdnsSocketHandlers }>();
  readonly sent: Array<{ from: string; packet: dnsPacket.Packet }> = [];
  /** Addresses whose packets no longer reach anyone (a host that vanished). */
  readonly cut = new Set<string>();

  open: OpenMdnsSocket = (iface, handlers) => {
    const entry = { iface, handlers };
    this.sockets.add(entry);
    return {
      query: async (questions) => this.deliver(iface.address, { type: 'query', questions }),
      respond: async (answers) => this.deliver(iface.address, { type: 'response', answers }),
      close: async () => {
        this.sockets.delete(entry);
      },
    };
  };

  deliver(from: string, packet: dnsPacket.Packet): void {
    if (this.cut.has(from)) return;
    this.sent.push({ from, packet });
    this.raw(from, dnsPacket.encode(packet));
  }

  raw(from: string, bytes: Buffer): void {
    let packet: unknown;
    try {
      packet = dnsPacket.decode(bytes);
    } catch {
      packet = undefined;
    }
    for (const s of [...this.sockets]) {
      if (packet === undefined) s.handlers.undecodable();
      else s.handlers.packet({ packet, address: from, size: bytes.length });
    }
  }
}

const table = (address: string): InterfaceTable => ({
  eth0: [
    {
      address,
      netmask: '255.255.255.0',
      family: 'IPv4',
      mac: '00:00:00:00:00:00',
      internal: false,
      cidr: `${address}/24`,
    },
  ],
});

function target(): DiscoveryTarget & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    addEndpoints: (device, endpoints, source) =>
      calls.push(
        `add ${device} ${endpoints.map((e) => `${e.host}:${e.port}`).join(',')} ${source}`,
      ),
    removeEndpoints: (device, source) => calls.push(`remove ${device} ${source}`),
  };
}

const secretA = new Uint8Array(32).fill(1);
const secretB = new Uint8Array(32).fill(2);

function make(
  lan: FakeLan,
  device: string,
  address: string | (() => InterfaceTable),
  secret = secretA,
  extra: Partial<ConstructorParameters<typeof LanDiscovery>[0]> = {},
): { discovery: LanDiscovery; manager: ReturnType<typeof target> } {
  const manager = target();
  const discovery = new LanDiscovery({
    mesh: { device: device as DeviceId, meshSecret: secret },
    port: 8787,
    manager,
    openSocket: lan.open,
    networkInterfaces: typeof address === 'string' ? () => table(address) : address,
    ...extra,
  });
  return { discovery, manager };
}

/** A (10.0.0.1) and B (10.0.0.2, with `extraB`) started on a fresh LAN; `lost`: A's reasons. */
async function startedPair(extraB: Partial<ConstructorParameters<typeof LanDiscovery>[0]> = {}) {
  const lan = new FakeLan();
  const a = make(lan, 'aaaaaaaaaaaaaaaa', '10.0.0.1');
  const b = make(lan, 'bbbbbbbbbbbbbbbb', '10.0.0.2', secretA, extraB);
  const lost: string[] = [];
  a.discovery.on('lost', (l) => lost.push(l.reason));
  await a.discovery.start();
  await b.discovery.start();
  return { lan, a, b, lost };
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_700_000_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('LanDiscovery (in-memory LAN)', () => {
  it('members find each other at once and feed the manager; never themselves', async () => {
    const lan = new FakeLan();
    const a = make(lan, 'aaaaaaaaaaaaaaaa', '10.0.0.1');
    const b = make(lan, 'bbbbbbbbbbbbbbbb', '10.0.0.2');
    const found: string[] = [];
    a.discovery.on('found', (p) => found.push(p.device));
    await a.discovery.start();
    await b.discovery.start();
    await vi.advanceTimersByTimeAsync(200);
    expect(found).toEqual(['bbbbbbbbbbbbbbbb']);
    expect(a.manager.calls).toEqual(['add bbbbbbbbbbbbbbbb 10.0.0.2:8787 mdns']);
    expect(b.manager.calls).toEqual(['add aaaaaaaaaaaaaaaa 10.0.0.1:8787 mdns']);
    expect(a.discovery.peers()).toMatchObject([
      { device: 'bbbbbbbbbbbbbbbb', addresses: ['10.0.0.2'], port: 8787, name: null },
    ]);
    // Nothing announced carries the secret or a name.
    const bytes = Buffer.concat(lan.sent.map((s) => dnsPacket.encode(s.packet)));
    expect(bytes.includes(Buffer.from(secretA))).toBe(false);
    expect(bytes.toString('latin1')).not.toMatch(/name=/);
    await a.discovery.stop();
    await b.discovery.stop();
  });

  it('a stranger (another mesh) is ignored and counted, never fed to the manager', async () => {
    const lan = new FakeLan();
    const a = make(lan, 'aaaaaaaaaaaaaaaa', '10.0.0.1');
    const stranger = make(lan, 'ssssssssssssssss', '10.0.0.3', secretB);
    await a.discovery.start();
    await stranger.discovery.start();
    await vi.advanceTimersByTimeAsync(5000);
    expect(a.manager.calls).toEqual([]);
    expect(a.discovery.peers()).toEqual([]);
    expect(a.discovery.status().ignored['wrong-tag']).toBeGreaterThan(0);
    await a.discovery.stop();
    await stranger.discovery.stop();
  });

  it('a forged announcement of a member id with a replayed or made-up tag is not used', async () => {
    const lan = new FakeLan();
    const a = make(lan, 'aaaaaaaaaaaaaaaa', '10.0.0.1');
    await a.discovery.start();
    const now = Date.now();
    // The right tag of another device, moved onto the member's id.
    const moved = currentMeshTag(secretA, 'cccccccccccccccc', now);
    const forged = serviceRecords({
      device: 'bbbbbbbbbbbbbbbb',
      port: 9,
      tag: moved,
      address: '10.0.0.66',
      ttl: 120,
    });
    lan.deliver('10.0.0.66', { type: 'response', answers: forged });
    expect(a.manager.calls).toEqual([]);
    expect(a.discovery.status().ignored['wrong-tag']).toBe(1);
    await a.discovery.stop();
  });

  it('stop sends goodbyes: the other side loses the member and tells the manager', async () => {
    const lan = new FakeLan();
    const a = make(lan, 'aaaaaaaaaaaaaaaa', '10.0.0.1');
    const b = make(lan, 'bbbbbbbbbbbbbbbb', '10.0.0.2');
    const lost: string[] = [];
    a.discovery.on('lost', (l) => lost.push(`${l.device} ${l.reason}`));
    await a.discovery.start();
    await b.discovery.start();
    await vi.advanceTimersByTimeAsync(200);
    await b.discovery.stop();
    const goodbye = lan.sent.at(-1)!.packet.answers!;
    expect(goodbye.every((r: Answer) => (r as { ttl?: number }).ttl === 0)).toBe(true);
    expect(lost).toEqual(['bbbbbbbbbbbbbbbb goodbye']);
    expect(a.manager.calls.at(-1)).toBe('remove bbbbbbbbbbbbbbbb mdns');
    expect(a.discovery.peers()).toEqual([]);
    await a.discovery.stop();
  });

  it('with a listener: announces its port where it listens, and says goodbye after it stopped', async () => {
    let endpoints = [{ host: '10.0.0.2', port: 4242 }];
    const { a, b, lost } = await startedPair({
      port: undefined,
      listener: { endpoints: () => endpoints },
    });
    await vi.advanceTimersByTimeAsync(200);
    expect(a.manager.calls).toEqual(['add bbbbbbbbbbbbbbbb 10.0.0.2:4242 mdns']);
    endpoints = []; // the listener stopped first
    await b.discovery.stop();
    expect(lost).toEqual(['goodbye']);
    await a.discovery.stop();
  });

  it('a member that goes silent expires after its TTL', async () => {
    const { lan, a, b, lost } = await startedPair({ ttlSeconds: 10 });
    await vi.advanceTimersByTimeAsync(4000);
    lan.cut.add('10.0.0.2'); // B vanishes without a word
    const lastHeard = a.discovery.peers()[0]!.lastSeen;
    await vi.advanceTimersByTimeAsync(lastHeard + 10_000 - Date.now() - 100);
    expect(lost).toEqual([]);
    await vi.advanceTimersByTimeAsync(1200);
    expect(lost).toEqual(['expired']);
    await a.discovery.stop();
    await b.discovery.stop();
  });

  it('re-announces before the TTL runs out, so a live member never expires', async () => {
    const { a, b, lost } = await startedPair({ ttlSeconds: 10 });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(lost).toEqual([]);
    expect(a.discovery.peers()).toHaveLength(1);
    await a.discovery.stop();
    await b.discovery.stop();
  });

  it('follows interfaces that come and go', async () => {
    const lan = new FakeLan();
    let tableA: InterfaceTable = {};
    const a = make(lan, 'aaaaaaaaaaaaaaaa', () => tableA, secretA, { interfaceCheckMs: 1000 });
    const b = make(lan, 'bbbbbbbbbbbbbbbb', '10.0.0.2');
    const lost: string[] = [];
    a.discovery.on('lost', (l) => lost.push(l.reason));
    await b.discovery.start();
    await a.discovery.start();
    await vi.advanceTimersByTimeAsync(3000);
    expect(a.discovery.status().interfaces).toEqual([]);
    expect(b.discovery.peers()).toEqual([]);
    tableA = table('10.0.0.1');
    await vi.advanceTimersByTimeAsync(1200);
    expect(a.discovery.status().interfaces).toEqual(['eth0/10.0.0.1']);
    expect(a.discovery.peers().map((p) => p.device)).toEqual(['bbbbbbbbbbbbbbbb']);
    expect(b.discovery.peers().map((p) => p.device)).toEqual(['aaaaaaaaaaaaaaaa']);
    tableA = {};
    await vi.advanceTimersByTimeAsync(1200);
    expect(a.discovery.status().interfaces).toEqual([]);
    expect(lost).toEqual(['interface-gone']);
    // It said goodbye on the way out, as far as it could.
    expect(b.discovery.peers()).toEqual([]);
    await a.discovery.stop();
    await b.discovery.stop();
  });

  it('answers browse queries, at most once a second per interface', async () => {
    const lan = new FakeLan();
    const a = make(lan, 'aaaaaaaaaaaaaaaa', '10.0.0.1');
    await a.discovery.start();
    await vi.advanceTimersByTimeAsync(5000); // past the start burst
    const before = lan.sent.filter((s) => s.from === '10.0.0.1').length;
    for (let i = 0; i < 50; i++) {
      lan.deliver('10.0.0.9', {
        type: 'query',
        questions: [{ name: '_meshsync._tcp.local', type: 'PTR' }],
      });
      await vi.advanceTimersByTimeAsync(40);
    }
    const answers = lan.sent.filter((s) => s.from === '10.0.0.1').length - before;
    expect(answers).toBeGreaterThanOrEqual(1);
    expect(answers).toBeLessThanOrEqual(3); // 2 s of queries
    await a.discovery.stop();
  });

  it('hostile input is ignored and counted; discovery keeps working', async () => {
    const lan = new FakeLan();
    const a = make(lan, 'aaaaaaaaaaaaaaaa', '10.0.0.1');
    await a.discovery.start();
    lan.raw('10.0.0.9', Buffer.from('not dns at all'));
    lan.raw('10.0.0.9', Buffer.alloc(9500)); // decodes as an empty query, but too large
    lan.deliver('10.0.0.9', {
      type: 'response',
      answers: serviceRecords({
        device: 'bbbbbbbbbbbbbbbb',
        port: 1,
        tag: 'A'.repeat(22),
        address: '10.0.0.9',
        ttl: 1,
      }).map((r) => (r.type === 'TXT' ? { ...r, data: ['v=1', 'id=bbbbbbbbbbbbbbbb'] } : r)),
    });
    lan.deliver('192.168.5.5', { type: 'response', answers: [] }); // not on this LAN
    const { ignored } = a.discovery.status();
    expect(ignored).toMatchObject({ undecodable: 1, 'too-large': 1, malformed: 1, 'off-link': 1 });
    const b = make(lan, 'bbbbbbbbbbbbbbbb', '10.0.0.2');
    await b.discovery.start();
    await vi.advanceTimersByTimeAsync(200);
    expect(a.discovery.peers().map((p) => p.device)).toEqual(['bbbbbbbbbbbbbbbb']);
    await a.discovery.stop();
    await b.discovery.stop();
  });

  it('announces a name only when asked to, and refuses bad options', async () => {
    const lan = new FakeLan();
    const a = make(lan, 'aaaaaaaaaaaaaaaa', '10.0.0.1', secretA, { announceName: 'Ann' });
    const b = make(lan, 'bbbbbbbbbbbbbbbb', '10.0.0.2');
    await a.discovery.start();
    await b.discovery.start();
    await vi.advanceTimersByTimeAsync(200);
    expect(b.discovery.peers()[0]!.name).toBe('Ann');
    await a.discovery.stop();
    await b.discovery.stop();
    const mesh = { device: 'x' as DeviceId, meshSecret: secretA };
    expect(() => new LanDiscovery({ mesh })).toThrow(/listener or a port/);
    expect(() => new LanDiscovery({ mesh, port: 0 })).toThrow(/port/);
    expect(() => new LanDiscovery({ mesh, port: 1, ttlSeconds: 0 })).toThrow(/ttlSeconds/);
  });
});
