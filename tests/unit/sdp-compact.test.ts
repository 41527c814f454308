import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isMeshsyncError } from '../../shared/errors.js';
import {
  compactSdp,
  decodeCompactSdp,
  encodeCompactSdp,
  rebuildSdp,
  type CompactCandidate,
  type CompactSdp,
} from '../../shared/sdp/index.js';
import {
  formatIpv6,
  parseIpv4,
  parseIpv6,
  parseMdnsUuid,
  formatMdnsUuid,
} from '../../shared/sdp/ip-address.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/sdp/', import.meta.url));
const fixtures = readdirSync(FIXTURES)
  .filter((name) => name.endsWith('.sdp'))
  .sort()
  .map((name) => ({
    name,
    type: name.endsWith('-offer.sdp') ? ('offer' as const) : ('answer' as const),
    sdp: readFileSync(join(FIXTURES, name), 'utf8'),
  }));

/** Calls `fn`, expecting a MeshsyncError with `code`. */
function expectCode(code: string, fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!isMeshsyncError(err)) throw err;
    expect(err.code).toBe(code);
    return;
  }
  throw new Error(`expected ${code}, nothing thrown`);
}

const HASH = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const FINGERPRINT = Array.from(HASH, (b) => b.toString(16).padStart(2, '0').toUpperCase()).join(
  ':',
);

/** A small SDP in the shape the stacks emit, with `replace` applied to its lines. */
function sdpWith(lines: { drop?: string[]; add?: string[]; set?: Record<string, string> } = {}) {
  const base: Record<string, string> = {
    'a=ice-ufrag': 'a=ice-ufrag:abcd',
    'a=ice-pwd': 'a=ice-pwd:0123456789abcdefghijkl',
    'a=fingerprint': `a=fingerprint:sha-256 ${FINGERPRINT}`,
    'a=setup': 'a=setup:actpass',
    'a=mid': 'a=mid:0',
    'a=sctp-port': 'a=sctp-port:5000',
    'a=max-message-size': 'a=max-message-size:262144',
    'a=candidate': 'a=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host',
    ...lines.set,
  };
  for (const key of lines.drop ?? []) delete base[key];
  const media = 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel';
  const head = ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0', media];
  return [...head, 'c=IN IP4 0.0.0.0', ...Object.values(base), ...(lines.add ?? []), ''].join(
    '\r\n',
  );
}

describe('compact SDP of real fixtures', () => {
  it('has the fixtures of every stack', () => {
    const names = fixtures.map((f) => f.name);
    for (const stack of ['werift', 'wrtc', 'chromium', 'chromium-mdns']) {
      expect(names).toContain(`${stack}-offer.sdp`);
      expect(names).toContain(`${stack}-answer.sdp`);
    }
  });

  for (const { name, type, sdp } of fixtures) {
    it(`${name}: compact -> binary -> compact, rebuild -> compact are identities`, () => {
      const dropped: string[] = [];
      const c = compactSdp(type, sdp, { onDrop: (what) => dropped.push(what) });
      expect(dropped).toEqual([]);
      expect(c.type).toBe(type);
      expect(c.setup).toBe(type === 'offer' ? 'actpass' : 'active');
      expect(c.candidates).toHaveLength(sdp.match(/^a=candidate:/gm)?.length ?? 0);
      if (name.startsWith('chromium-mdns')) {
        expect(c.candidates[0]?.address).toMatch(/^[0-9a-f-]{36}\.local$/);
      }

      const bytes = encodeCompactSdp(c);
      console.log(`${name}: ${bytes.length} bytes, ${c.candidates.length} candidate(s)`);
      if (c.candidates.length <= 2) expect(bytes.length).toBeLessThanOrEqual(100);
      expect(decodeCompactSdp(bytes)).toEqual(c);

      const rebuilt = rebuildSdp(c);
      expect(compactSdp(type, rebuilt)).toEqual(c);
      expect(rebuildSdp(decodeCompactSdp(bytes))).toBe(rebuilt);
      expect(rebuilt.endsWith('a=end-of-candidates\r\n')).toBe(true);
    });

    it(`${name}: every truncation and a trailing byte are refused`, () => {
      const bytes = encodeCompactSdp(compactSdp(type, sdp));
      for (let n = 0; n < bytes.length; n++) {
        expectCode('BAD_TOKEN', () => decodeCompactSdp(bytes.slice(0, n)));
      }
      expectCode('BAD_TOKEN', () => decodeCompactSdp(Uint8Array.from([...bytes, 0])));
    });

    it(`${name}: a flipped bit is refused or decodes to a form that encodes to the same bytes`, () => {
      const bytes = encodeCompactSdp(compactSdp(type, sdp));
      for (let i = 0; i < bytes.length * 8; i++) {
        const mutated = bytes.slice();
        mutated[i >> 3] = (mutated[i >> 3] ?? 0) ^ (1 << (i & 7));
        let decoded: CompactSdp;
        try {
          decoded = decodeCompactSdp(mutated);
        } catch (err) {
          expect(isMeshsyncError(err, 'BAD_TOKEN')).toBe(true);
          continue;
        }
        expect(encodeCompactSdp(decoded)).toEqual(mutated);
      }
    });
  }
});

describe('compactSdp', () => {
  it('refuses SDPs without a required part', () => {
    for (const key of ['a=ice-ufrag', 'a=ice-pwd', 'a=fingerprint', 'a=setup', 'a=mid']) {
      expectCode('BAD_SDP', () => compactSdp('offer', sdpWith({ drop: [key] })));
    }
    expectCode('BAD_SDP', () => compactSdp('offer', sdpWith().replace(/^m=.*$/m, 'm=audio 9 x')));
    expectCode('BAD_SDP', () =>
      compactSdp('offer', sdpWith().replace('m=application 9', 'm=application 0')),
    );
    expectCode('BAD_SDP', () => compactSdp('offer', 'hello'));
    expectCode('BAD_SDP', () => compactSdp('offer', ''));
  });

  it('refuses bad ICE credentials, fingerprints, roles and ICE lite', () => {
    const bad = (set: Record<string, string>, type: 'offer' | 'answer' = 'offer') =>
      expectCode('BAD_SDP', () => compactSdp(type, sdpWith({ set })));
    bad({ 'a=ice-ufrag': 'a=ice-ufrag:ab-d' });
    bad({ 'a=ice-ufrag': 'a=ice-ufrag:abc' });
    bad({ 'a=ice-ufrag': `a=ice-ufrag:${'a'.repeat(257)}` });
    bad({ 'a=ice-pwd': 'a=ice-pwd:0123456789abcdefghijk' }); // 21 characters
    bad({ 'a=ice-pwd': 'a=ice-pwd:0123456789abcdefghij l' });
    bad({ 'a=fingerprint': `a=fingerprint:sha-256 ${FINGERPRINT.slice(3)}` });
    bad({ 'a=fingerprint': `a=fingerprint:sha-1 ${FINGERPRINT.slice(36)}` });
    bad({ 'a=setup': 'a=setup:holdconn' });
    bad({ 'a=setup': 'a=setup:actpass' }, 'answer');
    bad({ 'a=mid': 'a=mid:a b' });
    bad({ 'a=sctp-port': 'a=sctp-port:70000' });
    bad({ 'a=max-message-size': 'a=max-message-size:-1' });
    expectCode('BAD_SDP', () => compactSdp('offer', sdpWith({ add: ['a=ice-lite'] })));
  });

  it('takes session-level credentials and the SDP defaults when the section has none', () => {
    const sdp = sdpWith({ drop: ['a=ice-ufrag', 'a=sctp-port', 'a=max-message-size'] }).replace(
      't=0 0',
      't=0 0\r\na=ice-ufrag:sess',
    );
    expect(compactSdp('offer', sdp)).toMatchObject({
      ufrag: 'sess',
      sctpPort: 5000,
      maxMessageSize: 65536,
    });
  });

  it('prefers a sha-256 fingerprint among several', () => {
    const sha512 = `a=fingerprint:sha-512 ${Array(64).fill('AB').join(':')}`;
    const c = compactSdp('offer', sdpWith({ add: [sha512] }));
    expect(c.fingerprint).toEqual({ algorithm: 'sha-256', hash: HASH });
    const only512 = compactSdp('offer', sdpWith({ set: { 'a=fingerprint': sha512 } }));
    expect(only512.fingerprint.algorithm).toBe('sha-512');
    expect(decodeCompactSdp(encodeCompactSdp(only512))).toEqual(only512);
  });

  it('keeps, canonicalises, sorts and dedupes candidates, dropping what it cannot carry', () => {
    const candidate = (rest: string) => `a=candidate:9 1 ${rest}`;
    const add = [
      candidate('tcp 1518280447 127.0.0.1 9 typ host tcptype active'),
      candidate('udp 1686052607 203.0.113.7 4000 typ srflx raddr 10.0.0.2 rport 4000'),
      candidate('UDP 2122260223 2001:DB8:0:0:0:0:0:1 5000 typ host'),
      candidate('udp 41885439 192.0.2.9 3478 typ relay raddr 0.0.0.0 rport 0'),
      candidate('udp 2113937151 3F9C61E3-6E8B-403A-9FAC-A609CB1C8773.local 6000 typ host'),
      candidate('tcp 1518280447 ::ffff:10.1.2.3 7000 typ host tcptype so'),
      'a=candidate:2 1 udp 2122260223 127.0.0.1 50000 typ host generation 0', // duplicate
      'a=candidate:3 2 udp 2122260222 127.0.0.1 50001 typ host', // RTCP component
      candidate('udp 2122260223 printer.local 5000 typ host'),
      candidate('udp 2122260223 fe80::1%eth0 5000 typ host'),
      candidate('udp 2122260223 0.0.0.0 5000 typ host'),
      candidate('udp 2122260223 127.0.0.1 0 typ host'),
      candidate('sctp 2122260223 127.0.0.1 5000 typ host'),
      candidate('tcp 2122260223 127.0.0.1 5000 typ host'),
      candidate('udp 2122260223 127.0.0.1 5000 typ unknown'),
      candidate('udp 2122260223 127.0.0.1 5000'),
    ];
    const dropped: string[] = [];
    const c = compactSdp('offer', sdpWith({ add }), { onDrop: (_, why) => dropped.push(why) });
    expect(c.candidates).toEqual<CompactCandidate[]>([
      { kind: 'host', protocol: 'udp', address: '127.0.0.1', port: 50000 },
      { kind: 'host', protocol: 'udp', address: '2001:db8::1', port: 5000 },
      {
        kind: 'host',
        protocol: 'udp',
        address: '3f9c61e3-6e8b-403a-9fac-a609cb1c8773.local',
        port: 6000,
      },
      { kind: 'srflx', protocol: 'udp', address: '203.0.113.7', port: 4000 },
      { kind: 'host', protocol: 'tcp', tcpType: 'active', address: '127.0.0.1', port: 9 },
      { kind: 'host', protocol: 'tcp', tcpType: 'so', address: '::ffff:10.1.2.3', port: 7000 },
      { kind: 'relay', protocol: 'udp', address: '192.0.2.9', port: 3478 },
    ]);
    expect(dropped).toHaveLength(add.length - 7 + 1); // every bad line, and the duplicate
    expect(dropped).toContain('duplicate');
    const bytes = encodeCompactSdp(c);
    expect(decodeCompactSdp(bytes)).toEqual(c);
    expect(compactSdp('offer', rebuildSdp(c))).toEqual(c);
    expect(compactSdp('offer', sdpWith({ add }), { maxCandidates: 2 }).candidates).toEqual(
      c.candidates.slice(0, 2),
    );
    const udpOnly = compactSdp('offer', sdpWith({ add }), { filter: (x) => x.protocol === 'udp' });
    expect(udpOnly.candidates).toEqual(c.candidates.filter((x) => x.protocol === 'udp'));
  });
});

describe('binary compact SDP', () => {
  const base = compactSdp('offer', sdpWith());
  const bytes = encodeCompactSdp(base);

  it('is small: flags, credentials, hash, one IPv4 candidate', () => {
    expect(bytes.length).toBe(1 + 1 + 4 + 1 + 22 + 32 + 1 + 7);
  });

  it('refuses bad characters in ufrag and pwd, reserved codes and non-canonical fields', () => {
    const at = (offset: number, value: number) => {
      const copy = bytes.slice();
      copy[offset] = value;
      return copy;
    };
    expectCode('BAD_TOKEN', () => decodeCompactSdp(at(2, '-'.charCodeAt(0)))); // ufrag
    expectCode('BAD_TOKEN', () => decodeCompactSdp(at(7, ' '.charCodeAt(0)))); // pwd
    expectCode('BAD_TOKEN', () => decodeCompactSdp(at(0, 3 << 1))); // setup code 3
    expectCode('BAD_TOKEN', () => decodeCompactSdp(at(0, 3 << 3))); // hash code 3
    expectCode('BAD_TOKEN', () => decodeCompactSdp(at(0, 1))); // an actpass answer
    expectCode('BAD_TOKEN', () => decodeCompactSdp(at(1, 253))); // ufrag of 257
    const candidateAt = 1 + 1 + 4 + 1 + 22 + 32 + 1;
    expectCode('BAD_TOKEN', () => decodeCompactSdp(at(candidateAt, 0x40))); // reserved bits
    expectCode('BAD_TOKEN', () => decodeCompactSdp(at(candidateAt, 0x30))); // family 3
    expectCode('BAD_TOKEN', () => decodeCompactSdp(at(candidateAt - 1, 17))); // > 16
    const withDefaultPort = Uint8Array.from([
      ...[bytes[0]! | 0x20, ...bytes.slice(1, candidateAt - 1)],
      ...[0x13, 0x88, ...bytes.slice(candidateAt - 1)],
    ]);
    expectCode('BAD_TOKEN', () => decodeCompactSdp(withDefaultPort)); // present but default
    const twice = Uint8Array.from([
      ...bytes.slice(0, candidateAt - 1),
      2,
      ...bytes.slice(candidateAt),
      ...bytes.slice(candidateAt),
    ]);
    expectCode('BAD_TOKEN', () => decodeCompactSdp(twice)); // duplicate candidate
  });

  it('refuses to encode or rebuild what it could not carry', () => {
    const bad: Partial<CompactSdp>[] = [
      { ufrag: 'ab-d' },
      { pwd: 'short' },
      { fingerprint: { algorithm: 'sha-384', hash: HASH } },
      { setup: 'actpass', type: 'answer' },
      { mid: '' },
      { sctpPort: 0 },
      { maxMessageSize: 2 ** 32 },
      { candidates: [{ kind: 'host', protocol: 'udp', address: '127.000.0.1', port: 1 }] },
      { candidates: [{ kind: 'host', protocol: 'udp', address: '::1', port: 0 }] },
      { candidates: [{ kind: 'host', protocol: 'tcp', address: '::1', port: 1 }] },
      {
        candidates: Array.from({ length: 17 }, (_, i) => ({ ...base.candidates[0]!, port: i + 1 })),
      },
    ];
    for (const change of bad) {
      expectCode('BAD_SDP', () => encodeCompactSdp({ ...base, ...change }));
      expectCode('BAD_SDP', () => rebuildSdp({ ...base, ...change }));
    }
  });

  it('carries RFC-maximum credentials and non-default parameters', () => {
    const c: CompactSdp = {
      ...base,
      type: 'answer',
      setup: 'passive',
      ufrag: 'u/+9'.repeat(64),
      pwd: 'P'.repeat(256),
      sctpPort: 5001,
      maxMessageSize: 0,
      mid: 'data',
    };
    const encoded = encodeCompactSdp(c);
    expect(encoded.length).toBe(bytes.length + 252 + 234 + 2 + 4 + 5);
    expect(decodeCompactSdp(encoded)).toEqual(c);
    expect(compactSdp('answer', rebuildSdp(c))).toEqual(c);
  });

  it('round-trips arbitrary valid compact SDPs (property)', () => {
    const iceText = (min: number) =>
      fc.string({ unit: fc.constantFrom(...'abcXYZ019+/'), minLength: min, maxLength: 40 });
    const candidate: fc.Arbitrary<CompactCandidate> = fc
      .record({
        kind: fc.constantFrom('host', 'srflx', 'prflx', 'relay' as const),
        transport: fc.constantFrom('udp', 'active', 'passive', 'so' as const),
        address: fc.oneof(
          fc.ipV4().filter((a) => a !== '0.0.0.0'),
          fc
            .ipV6()
            .map((a) => formatIpv6(parseIpv6(a)!))
            .filter((a) => a !== '::'),
          fc
            .uuid()
            .map((u) => `${u}.local`)
            .filter((a) => !/^[0-]+\./.test(a)),
        ),
        port: fc.integer({ min: 1, max: 0xffff }),
      })
      .map(({ transport, ...c }) =>
        transport === 'udp'
          ? { ...c, protocol: 'udp' as const }
          : { ...c, protocol: 'tcp' as const, tcpType: transport },
      );
    const compact = fc
      .record({
        type: fc.constantFrom('offer', 'answer' as const),
        ufrag: iceText(4),
        pwd: iceText(22),
        algorithm: fc.constantFrom('sha-256', 'sha-384', 'sha-512' as const),
        hash: fc.uint8Array({ minLength: 64, maxLength: 64 }),
        setup: fc.constantFrom('actpass', 'active', 'passive' as const),
        candidates: fc.uniqueArray(candidate, {
          maxLength: 16,
          selector: (c) => `${c.protocol}${c.tcpType ?? ''} ${c.address} ${c.port}`,
        }),
        sctpPort: fc.integer({ min: 1, max: 0xffff }),
        maxMessageSize: fc.nat({ max: 0xffffffff }),
        mid: fc.constantFrom('0', '1', 'data', 'a.b-c'),
      })
      .map(({ algorithm, hash, ...c }): CompactSdp => ({
        ...c,
        setup: c.type === 'answer' && c.setup === 'actpass' ? 'active' : c.setup,
        fingerprint: {
          algorithm,
          hash: hash.slice(0, { 'sha-256': 32, 'sha-384': 48, 'sha-512': 64 }[algorithm]),
        },
      }));
    const sorted = (list: CompactCandidate[]) =>
      list.map((x) => `${x.kind} ${x.protocol} ${x.tcpType} ${x.address} ${x.port}`).sort();
    fc.assert(
      fc.property(compact, (c) => {
        expect(decodeCompactSdp(encodeCompactSdp(c))).toEqual(c);
        // Rebuilding puts the candidates in type-preference order; after that, nothing moves.
        const again = compactSdp(c.type, rebuildSdp(c));
        expect({ ...again, candidates: [] }).toEqual({ ...c, candidates: [] });
        expect(sorted(again.candidates)).toEqual(sorted(c.candidates));
        expect(compactSdp(c.type, rebuildSdp(again))).toEqual(again);
      }),
      { numRuns: 200 },
    );
  });
});

describe('address parsing', () => {
  it('parses strict IPv4', () => {
    expect(parseIpv4('127.0.0.1')).toEqual(Uint8Array.of(127, 0, 0, 1));
    for (const bad of [
      '1.2.3',
      '1.2.3.4.5',
      '01.2.3.4',
      '256.1.1.1',
      '1.2.3.',
      ' 1.2.3.4',
      '1.2.3.-4',
      '1.2.3.4x',
    ]) {
      expect(parseIpv4(bad)).toBeNull();
    }
  });

  it('parses IPv6 forms and prints RFC 5952 text', () => {
    const cases: [string, string][] = [
      ['::1', '::1'],
      ['::', '::'],
      ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['fe80:0000::0001', 'fe80::1'],
      ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
      ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
      ['64:ff9b::192.0.2.1', '64:ff9b::c000:201'],
      ['1::', '1::'],
    ];
    for (const [input, canonical] of cases) expect(formatIpv6(parseIpv6(input)!)).toBe(canonical);
    for (const bad of [
      '1:2:3:4:5:6:7',
      '1::2::3',
      ':::',
      '1:2:3:4:5:6:7:8:9',
      'fe80::1%eth0',
      '12345::',
      '::1.2.3',
      '1.2.3.4::',
      'g::1',
      '1:2:3:4:5:6:7::8',
    ]) {
      expect(parseIpv6(bad)).toBeNull();
    }
  });

  it('parses <uuid>.local names', () => {
    const name = '3f9c61e3-6e8b-403a-9fac-a609cb1c8773.local';
    expect(formatMdnsUuid(parseMdnsUuid(name.toUpperCase().replace('.LOCAL', '.local'))!)).toBe(
      name,
    );
    expect(parseMdnsUuid('printer.local')).toBeNull();
    expect(parseMdnsUuid(name.replace('.local', ''))).toBeNull();
  });
});
