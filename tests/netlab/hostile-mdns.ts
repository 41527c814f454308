import dnsPacket, { type Answer } from 'dns-packet';
import fc from 'fast-check';
import { fileURLToPath } from 'node:url';
import { serviceRecords } from '../../peer/node/mdns/service-records.js';
import type { Lab, LabHost } from '../support/netns.js';

const SENDER = fileURLToPath(new URL('./fixtures/mdns-sender-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const SEED = 8;
const device = 'hostilehostile00';
const base = serviceRecords({
  device,
  port: 8787,
  tag: 'A'.repeat(22), // well-formed, never a valid tag
  address: '10.0.0.66',
  ttl: 120,
});
const encode = (answers: Answer[]): Buffer => dnsPacket.encode({ type: 'response', answers });
const sample = <T>(arb: fc.Arbitrary<T>, n: number): T[] =>
  fc.sample(arb, { numRuns: n, seed: SEED });

/**
 * A barrage of bad mDNS datagrams (fixed seed, so a failure replays): random bytes, truncated and
 * bit-flipped announcements, fuzzed TXT strings, huge records, too many records, wrong record
 * types under the service's names, bad ports, and well-formed announcements with a wrong tag.
 */
export function hostilePackets(): Buffer[] {
  const valid = encode(base);
  const out: Buffer[] = [];
  for (const bytes of sample(fc.uint8Array({ minLength: 1, maxLength: 1500 }), 60)) {
    out.push(Buffer.from(bytes));
  }
  for (const cut of sample(fc.integer({ min: 1, max: valid.length - 1 }), 40)) {
    out.push(valid.subarray(0, cut));
  }
  for (const [at, bit] of sample(
    fc.tuple(fc.integer({ min: 0, max: valid.length - 1 }), fc.integer({ min: 0, max: 7 })),
    60,
  )) {
    const flipped = Buffer.from(valid);
    flipped[at] = flipped[at]! ^ (1 << bit);
    out.push(flipped);
  }
  const txts = fc.array(fc.uint8Array({ maxLength: 255 }), { minLength: 1, maxLength: 30 });
  for (const strings of sample(txts, 60)) {
    out.push(encode(withTxt(strings.map((s) => Buffer.from(s)))));
  }
  const huge = Array.from({ length: 200 }, (_, k) => `k${k}=${'x'.repeat(240)}`);
  out.push(encode(withTxt(huge)), encode(withTxt(huge.slice(0, 30))));
  const many = Array.from({ length: 100 }, (_, k): Answer => ({
    name: `h${k}.local`,
    type: 'A',
    ttl: 120,
    data: '10.0.0.66',
  }));
  out.push(encode([...base, ...many]));
  const instance = `${device}._meshsync._tcp.local`;
  out.push(
    encode([base[0]!, { name: instance, type: 'A', ttl: 120, data: '10.0.0.66' }]),
    encode([base[0]!, { name: instance, type: 'NULL', ttl: 120, data: Buffer.alloc(300, 1) }]),
    encode([{ name: '_meshsync._tcp.local', type: 'TXT', ttl: 120, data: ['id=x'] }]),
    encode(base.map((r) => (r.type === 'SRV' ? { ...r, data: { port: 0, target: 'x' } } : r))),
    encode(withTxt(['v=1', `id=${device}`, 'port=99999', `tag=${'A'.repeat(22)}`])),
    encode(withTxt(['v=9', `id=${device}`, 'port=1', `tag=${'A'.repeat(22)}`])),
  );
  // Well-formed announcements of made-up devices, every one with a tag no mesh made.
  for (const tag of sample(fc.stringMatching(/^[A-Za-z0-9_-]{22}$/), 10)) {
    out.push(encode(serviceRecords({ device, port: 1, tag, address: '10.0.0.66', ttl: 120 })));
  }
  return out;
}

function withTxt(strings: Array<string | Buffer>): Answer[] {
  return base.map((r) => (r.type === 'TXT' ? { ...r, data: strings } : r));
}

/** Multicasts `packets` from `host` (fixtures/mdns-sender-child.ts); resolves with how many. */
export async function sendRaw(lab: Lab, host: LabHost, packets: Buffer[]): Promise<number> {
  const config = { interface: host.ip, packets: packets.map((p) => p.toString('base64')) };
  const out = await lab.exec(
    host,
    ['sh', '-c', `cd '${ROOT}' && exec '${process.execPath}' --import tsx '${SENDER}'`],
    JSON.stringify(config),
  );
  return (JSON.parse(out) as { sent: number }).sent;
}
