import { fromUtf8, utf8 } from '../crypto/bytes.js';
import { ByteReader, ByteWriter } from '../token/binary.js';
import { assertCompactSdp, candidateKey, candidateProblem } from './checks.js';
import {
  addressFromBytes,
  addressToBytes,
  isUnspecified,
  type AddressFamily,
} from './ip-address.js';
import {
  CANDIDATE_KINDS,
  COMPACT_DEFAULTS,
  FINGERPRINT_ALGORITHMS,
  FINGERPRINT_LENGTH,
  ICE_CHARS,
  MAX_COMPACT_CANDIDATES,
  MID_PATTERN,
  PWD_LENGTH,
  SETUP_ROLES,
  UFRAG_LENGTH,
  type CompactCandidate,
  type CompactSdp,
} from './types.js';

/*
 * Binary layout (big-endian):
 *   flags u8   bit 0 type (0 offer, 1 answer) | bits 1-2 setup (actpass, active, passive)
 *              bits 3-4 fingerprint (sha-256, sha-384, sha-512) | bit 5 sctpPort follows
 *              bit 6 maxMessageSize follows | bit 7 mid follows
 *   ufrag      u8 (length - 4) + ICE chars       pwd   u8 (length - 22) + ICE chars
 *   hash       32/48/64 bytes (by algorithm)
 *   [sctpPort u16] [maxMessageSize u32] [mid: u8 length + token]   each only when not default
 *   count u8 (0..16), then per candidate:
 *     u8   bits 0-1 kind (host, srflx, prflx, relay) | bits 2-3 transport (udp, tcp active,
 *          tcp passive, tcp so) | bits 4-5 address (ipv4, ipv6, mdns uuid) | bits 6-7 zero
 *     address 4 or 16 bytes, port u16
 * Every value has one encoding: a present field equal to its default, a reserved code or bit,
 * a duplicate candidate, or a trailing byte is refused.
 */

const TRANSPORTS = ['udp', 'tcp-active', 'tcp-passive', 'tcp-so'] as const;
const FAMILIES: readonly AddressFamily[] = ['ipv4', 'ipv6', 'mdns'];
const ADDRESS_LENGTH: Readonly<Record<AddressFamily, number>> = { ipv4: 4, ipv6: 16, mdns: 16 };

const HAS_SCTP_PORT = 1 << 5;
const HAS_MAX_MESSAGE_SIZE = 1 << 6;
const HAS_MID = 1 << 7;

/** An ICE text as one byte (length - min) and its ASCII characters. */
function writeIceText(writer: ByteWriter, text: string, min: number): void {
  writer.u8(text.length - min).bytes(utf8(text));
}

function readIceText(reader: ByteReader, field: string, length: { min: number; max: number }) {
  const n = reader.u8(field) + length.min;
  if (n > length.max) reader.fail(field, `length ${n} above ${length.max}`);
  const text = fromUtf8(reader.bytes(n, field), 'BAD_TOKEN');
  if (!ICE_CHARS.test(text)) reader.fail(field, 'bad characters');
  return text;
}

function writeCandidate(writer: ByteWriter, c: CompactCandidate): void {
  const address = addressToBytes(c.address);
  if (!address) throw new RangeError('unreachable: checked by assertCompactSdp');
  const transport = TRANSPORTS.indexOf(c.protocol === 'udp' ? 'udp' : `tcp-${c.tcpType ?? 'so'}`);
  const descriptor =
    CANDIDATE_KINDS.indexOf(c.kind) | (transport << 2) | (FAMILIES.indexOf(address.family) << 4);
  writer.u8(descriptor).bytes(address.bytes).u16(c.port);
}

function readCandidate(reader: ByteReader, field: string): CompactCandidate {
  const descriptor = reader.u8(field);
  const kind = CANDIDATE_KINDS[descriptor & 3];
  const transport = TRANSPORTS[(descriptor >> 2) & 3];
  const family = FAMILIES[(descriptor >> 4) & 3];
  if (!kind || !transport || !family || descriptor >> 6 !== 0) {
    reader.fail(field, 'reserved descriptor bits');
  }
  const bytes = reader.bytes(ADDRESS_LENGTH[family], field);
  if (isUnspecified(bytes)) reader.fail(field, 'unspecified address');
  const port = reader.u16(field);
  if (port === 0) reader.fail(field, 'port 0');
  const [protocol, tcpType] = transport.split('-') as ['udp' | 'tcp', 'active' | 'passive' | 'so'];
  return {
    kind,
    protocol,
    ...(protocol === 'tcp' ? { tcpType } : {}),
    address: addressFromBytes(family, bytes),
    port,
  };
}

/** Appends the binary form of `c` (throws `BAD_SDP` if `c` is not a valid compact SDP). */
export function writeCompactSdp(writer: ByteWriter, c: CompactSdp): void {
  assertCompactSdp(c);
  let flags =
    (c.type === 'answer' ? 1 : 0) |
    (SETUP_ROLES.indexOf(c.setup) << 1) |
    (FINGERPRINT_ALGORITHMS.indexOf(c.fingerprint.algorithm) << 3);
  if (c.sctpPort !== COMPACT_DEFAULTS.sctpPort) flags |= HAS_SCTP_PORT;
  if (c.maxMessageSize !== COMPACT_DEFAULTS.maxMessageSize) flags |= HAS_MAX_MESSAGE_SIZE;
  if (c.mid !== COMPACT_DEFAULTS.mid) flags |= HAS_MID;
  writer.u8(flags);
  writeIceText(writer, c.ufrag, UFRAG_LENGTH.min);
  writeIceText(writer, c.pwd, PWD_LENGTH.min);
  writer.bytes(c.fingerprint.hash);
  if (flags & HAS_SCTP_PORT) writer.u16(c.sctpPort);
  if (flags & HAS_MAX_MESSAGE_SIZE) writer.u32(c.maxMessageSize);
  if (flags & HAS_MID) writer.shortText(c.mid);
  writer.u8(c.candidates.length);
  for (const candidate of c.candidates) writeCandidate(writer, candidate);
}

/** Reads one compact SDP written by `writeCompactSdp`; any bad field throws `BAD_TOKEN`. */
export function readCompactSdp(reader: ByteReader): CompactSdp {
  const flags = reader.u8('sdp.flags');
  const setup = SETUP_ROLES[(flags >> 1) & 3];
  const algorithm = FINGERPRINT_ALGORITHMS[(flags >> 3) & 3];
  if (!setup) reader.fail('sdp.flags', 'reserved setup code');
  if (!algorithm) reader.fail('sdp.flags', 'reserved fingerprint code');
  const type = flags & 1 ? 'answer' : 'offer';
  if (type === 'answer' && setup === 'actpass') reader.fail('sdp.flags', 'an actpass answer');
  const ufrag = readIceText(reader, 'sdp.ufrag', UFRAG_LENGTH);
  const pwd = readIceText(reader, 'sdp.pwd', PWD_LENGTH);
  const hash = reader.bytes(FINGERPRINT_LENGTH[algorithm], 'sdp.fingerprint');
  let sctpPort: number = COMPACT_DEFAULTS.sctpPort;
  if (flags & HAS_SCTP_PORT) {
    sctpPort = reader.u16('sdp.sctpPort');
    if (sctpPort === 0 || sctpPort === COMPACT_DEFAULTS.sctpPort) {
      reader.fail('sdp.sctpPort', 'zero or the default');
    }
  }
  let maxMessageSize: number = COMPACT_DEFAULTS.maxMessageSize;
  if (flags & HAS_MAX_MESSAGE_SIZE) {
    maxMessageSize = reader.u32('sdp.maxMessageSize');
    if (maxMessageSize === COMPACT_DEFAULTS.maxMessageSize) {
      reader.fail('sdp.maxMessageSize', 'the default');
    }
  }
  let mid: string = COMPACT_DEFAULTS.mid;
  if (flags & HAS_MID) {
    mid = reader.shortText('sdp.mid', MID_PATTERN, 1, 32);
    if (mid === COMPACT_DEFAULTS.mid) reader.fail('sdp.mid', 'the default');
  }
  const count = reader.u8('sdp.candidates');
  if (count > MAX_COMPACT_CANDIDATES) {
    reader.fail('sdp.candidates', `${count} above ${MAX_COMPACT_CANDIDATES}`);
  }
  const candidates: CompactCandidate[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) {
    const field = `sdp.candidates[${i}]`;
    const candidate = readCandidate(reader, field);
    const problem = candidateProblem(candidate);
    if (problem) reader.fail(field, problem);
    if (seen.has(candidateKey(candidate))) reader.fail(field, 'duplicate');
    seen.add(candidateKey(candidate));
    candidates.push(candidate);
  }
  return {
    type,
    ufrag,
    pwd,
    fingerprint: { algorithm, hash },
    setup,
    candidates,
    sctpPort,
    maxMessageSize,
    mid,
  };
}

/** The binary form of `c`: about 75 bytes for an offer with two IPv4 candidates. */
export function encodeCompactSdp(c: CompactSdp): Uint8Array {
  const writer = new ByteWriter();
  writeCompactSdp(writer, c);
  return writer.finish();
}

/** The compact SDP of `bytes`, which must hold exactly one (`BAD_TOKEN` otherwise). */
export function decodeCompactSdp(bytes: Uint8Array): CompactSdp {
  const reader = new ByteReader(bytes, 'compact SDP');
  const c = readCompactSdp(reader);
  reader.end();
  return c;
}
