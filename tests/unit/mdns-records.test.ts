import dnsPacket, { type Answer } from 'dns-packet';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  asksForService,
  MAX_RECORDS,
  readAnnouncements,
  type ReadResult,
} from '../../peer/node/mdns/read-announcements.js';
import {
  browseQuestions,
  serviceRecords,
  type LocalService,
} from '../../peer/node/mdns/service-records.js';

const service: LocalService = {
  device: 'abcdefghijklmnop',
  port: 8787,
  tag: 'XOw-IjBAYhUTDj_eYhRaGg',
  address: '10.77.0.1',
  ttl: 120,
};

/** Through the wire and back, as a receiver sees it. */
function wire(answers: Answer[], extra: Partial<dnsPacket.Packet> = {}): unknown {
  return dnsPacket.decode(dnsPacket.encode({ type: 'response', answers, ...extra }));
}

function read(packet: unknown): ReadResult {
  const result = readAnnouncements(packet);
  if (typeof result === 'string') throw new Error(`refused: ${result}`);
  return result;
}

/** The announcement's records with the TXT strings replaced. */
function withTxt(strings: Array<string | Buffer>): Answer[] {
  return serviceRecords(service).map((r) => (r.type === 'TXT' ? { ...r, data: strings } : r));
}

const goodTxt = ['v=1', `id=${service.device}`, 'port=8787', `tag=${service.tag}`];

describe('announcement records', () => {
  it('round-trip through the wire: PTR, SRV, TXT and A', () => {
    const result = read(wire(serviceRecords(service)));
    expect(result).toEqual({
      announcements: [
        {
          device: service.device,
          port: 8787,
          tag: service.tag,
          name: null,
          addresses: ['10.77.0.1'],
          ttl: 120,
        },
      ],
      malformed: 0,
      otherVersion: 0,
    });
  });

  it('carry no name unless one is given; a given name is cleaned and cut to 63 bytes', () => {
    const txt = (s: LocalService): string[] =>
      (serviceRecords(s).find((r) => r.type === 'TXT')!.data as string[]).map(String);
    expect(txt(service).some((t) => t.startsWith('name='))).toBe(false);
    expect(txt({ ...service, name: 'Ann\u0000s laptop' })).toContain('name=Anns laptop');
    const long = txt({ ...service, name: 'é'.repeat(40) }).find((t) => t.startsWith('name='))!;
    expect(Buffer.byteLength(long.slice(5))).toBe(62); // 31 two-byte characters
    expect(read(wire(serviceRecords({ ...service, name: 'Ann' }))).announcements[0]!.name).toBe(
      'Ann',
    );
  });

  it('a goodbye is the same records with TTL 0', () => {
    expect(read(wire(serviceRecords({ ...service, ttl: 0 }))).announcements[0]!.ttl).toBe(0);
  });

  it('a TTL above 4500 s is capped', () => {
    expect(read(wire(serviceRecords({ ...service, ttl: 99_999 }))).announcements[0]!.ttl).toBe(
      4500,
    );
  });

  it('leave out instances with a missing, malformed or conflicting field', () => {
    const cases: Array<[string, Answer[]]> = [
      ['no TXT', serviceRecords(service).filter((r) => r.type !== 'TXT')],
      ['two TXTs', [...serviceRecords(service), serviceRecords(service)[2]!]],
      ['no id', withTxt(goodTxt.filter((t) => !t.startsWith('id=')))],
      ['bad id', withTxt(goodTxt.map((t) => (t.startsWith('id=') ? 'id=a b' : t)))],
      ['id not the instance', withTxt(goodTxt.map((t) => (t.startsWith('id=') ? 'id=zzzz' : t)))],
      ['port 0', withTxt(goodTxt.map((t) => (t.startsWith('port') ? 'port=0' : t)))],
      ['port 70000', withTxt(goodTxt.map((t) => (t.startsWith('port') ? 'port=70000' : t)))],
      ['port 08', withTxt(goodTxt.map((t) => (t.startsWith('port') ? 'port=08' : t)))],
      ['short tag', withTxt(goodTxt.map((t) => (t.startsWith('tag') ? 'tag=abc' : t)))],
      ['repeated key', withTxt([...goodTxt, 'port=8787'])],
      ['bad key', withTxt([...goodTxt, '=x'])],
      ['no v', withTxt(goodTxt.slice(1))],
      ['17 strings', withTxt([...goodTxt, ...Array.from({ length: 13 }, (_, k) => `k${k}=1`)])],
      [
        'over 1024 bytes',
        withTxt([...goodTxt, ...['a', 'b', 'c', 'd', 'e'].map((k) => `${k}=${'x'.repeat(250)}`)]),
      ],
      ['not UTF-8', withTxt([...goodTxt, Buffer.from([0x6e, 0x3d, 0xff, 0xfe])])],
      ['control chars in name', withTxt([...goodTxt, 'name=a\u0007b'])],
      [
        'SRV port differs',
        serviceRecords(service).map((r) =>
          r.type === 'SRV' ? { ...r, data: { port: 1, target: 'x.local' } } : r,
        ),
      ],
    ];
    for (const [what, answers] of cases) {
      expect([what, read(wire(answers))]).toEqual([
        what,
        { announcements: [], malformed: 1, otherVersion: 0 },
      ]);
    }
  });

  it('count another TXT version apart, and ignore records of other services', () => {
    const v2 = read(wire(withTxt(goodTxt.map((t) => (t === 'v=1' ? 'v=2' : t)))));
    expect(v2).toEqual({ announcements: [], malformed: 0, otherVersion: 1 });
    const printer: Answer[] = [
      { name: '_ipp._tcp.local', type: 'PTR', ttl: 120, data: 'p._ipp._tcp.local' },
      { name: 'p._ipp._tcp.local', type: 'TXT', ttl: 120, data: ['x'] },
    ];
    expect(read(wire(printer))).toEqual({ announcements: [], malformed: 0, otherVersion: 0 });
  });

  it('refuse whole packets with too many records, and things that are not packets', () => {
    const many = Array.from({ length: MAX_RECORDS + 1 }, (_, k) => ({
      name: `h${k}.local`,
      type: 'A' as const,
      ttl: 1,
      data: '10.0.0.1',
    }));
    expect(readAnnouncements(wire(many))).toBe('too-many-records');
    for (const junk of [null, 7, 'x', [], { type: 'response', answers: 'no' }, { type: 'query' }]) {
      expect(readAnnouncements(junk)).toBe('not-a-packet');
    }
  });

  it('only A records that are IPv4 addresses count; a bad one spoils the instance', () => {
    const extra: Answer = {
      name: 'meshsync-abcdefghijklmnop.local',
      type: 'A',
      ttl: 120,
      data: '10.77.0.9',
    };
    expect(read(wire([...serviceRecords(service), extra])).announcements[0]!.addresses).toEqual([
      '10.77.0.1',
      '10.77.0.9',
    ]);
    const packet = wire(serviceRecords(service)) as {
      answers: Array<{ type: string; data: unknown }>;
    };
    packet.answers.find((r) => r.type === 'A')!.data = { toString: () => '1.2.3.4' };
    expect(read(packet)).toEqual({ announcements: [], malformed: 1, otherVersion: 0 });
  });

  it('never throw, whatever the decoded packet holds (property)', () => {
    fc.assert(
      fc.property(fc.anything({ maxDepth: 4 }), (junk) => {
        readAnnouncements(junk);
        readAnnouncements({ type: 'response', answers: [junk], additionals: [junk] });
        asksForService(junk, service.device);
      }),
      { numRuns: 500 },
    );
  });

  it('fuzzed TXT strings: never throw, and never yield an announcement with bad fields', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 255 }), { minLength: 1, maxLength: 24 }),
        (strings) => {
          const result = readAnnouncements(wire(withTxt(strings.map((s) => Buffer.from(s)))));
          if (typeof result === 'string') return;
          for (const a of result.announcements) {
            expect(a.device).toBe(service.device);
            expect(a.port).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('random bytes that decode as DNS never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 12, maxLength: 600 }), (bytes) => {
        let packet: unknown;
        try {
          packet = dnsPacket.decode(Buffer.from(bytes));
        } catch {
          return; // multicast-dns drops these before us (counted as undecodable)
        }
        readAnnouncements(packet);
        asksForService(packet, service.device);
      }),
      { numRuns: 500 },
    );
  });
});

describe('queries', () => {
  it('our browse asks for the service; so do questions for our own names', () => {
    const q = (questions: dnsPacket.Question[]): unknown =>
      dnsPacket.decode(dnsPacket.encode({ type: 'query', questions }));
    expect(asksForService(q(browseQuestions()), service.device)).toBe(true);
    expect(asksForService(q([{ name: '_MESHSYNC._tcp.local', type: 'PTR' }]), 'x')).toBe(true);
    expect(asksForService(q([{ name: '_services._dns-sd._udp.local', type: 'PTR' }]), 'x')).toBe(
      true,
    );
    expect(
      asksForService(
        q([{ name: `${service.device}._meshsync._tcp.local`, type: 'SRV' }]),
        service.device,
      ),
    ).toBe(true);
    expect(asksForService(q([{ name: '_ipp._tcp.local', type: 'PTR' }]), 'x')).toBe(false);
    const many = Array.from({ length: 33 }, () => browseQuestions()[0]!);
    expect(asksForService(q(many), 'x')).toBe(false);
  });
});
