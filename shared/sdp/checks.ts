import { MeshsyncError } from '../errors.js';
import { addressFromBytes, addressToBytes, isUnspecified } from './ip-address.js';
import {
  CANDIDATE_KINDS,
  FINGERPRINT_ALGORITHMS,
  FINGERPRINT_LENGTH,
  ICE_CHARS,
  MAX_COMPACT_CANDIDATES,
  MID_PATTERN,
  PWD_LENGTH,
  SETUP_ROLES,
  TCP_TYPES,
  UFRAG_LENGTH,
  type CompactCandidate,
  type CompactSdp,
} from './types.js';

/**
 * Field checks shared by the SDP parser, the binary reader and writer, and `rebuildSdp`: each
 * returns what is wrong (or undefined), and the caller throws its own error code.
 */

/** Problem with an ICE ufrag or password of `length` bounds, or undefined. */
export function iceTextProblem(
  text: unknown,
  length: { min: number; max: number },
): string | undefined {
  if (typeof text !== 'string') return 'missing';
  if (text.length < length.min || text.length > length.max) {
    return `length ${text.length} outside ${length.min}..${length.max}`;
  }
  if (!ICE_CHARS.test(text)) return 'characters outside [A-Za-z0-9+/]';
  return undefined;
}

const isInt = (n: unknown, min: number, max: number): boolean =>
  typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max;

/** Canonical key of a candidate's transport address: two candidates with one key are duplicates. */
export function candidateKey(c: CompactCandidate): string {
  return `${c.protocol}/${c.tcpType ?? ''} ${c.address} ${c.port}`;
}

/** Problem with one candidate (types, canonical address, port, tcpType), or undefined. */
export function candidateProblem(c: CompactCandidate): string | undefined {
  if (typeof c !== 'object' || c === null) return 'not an object';
  if (!(CANDIDATE_KINDS as readonly unknown[]).includes(c.kind)) return 'bad kind';
  if (c.protocol === 'udp') {
    if (c.tcpType !== undefined) return 'tcpType on a UDP candidate';
  } else if (c.protocol === 'tcp') {
    if (!(TCP_TYPES as readonly unknown[]).includes(c.tcpType)) return 'bad tcpType';
  } else {
    return 'bad protocol';
  }
  if (typeof c.address !== 'string') return 'bad address';
  const parsed = addressToBytes(c.address);
  if (!parsed || isUnspecified(parsed.bytes)) return 'bad address';
  if (addressFromBytes(parsed.family, parsed.bytes) !== c.address) return 'address not canonical';
  if (!isInt(c.port, 1, 0xffff)) return 'bad port';
  return undefined;
}

/** Throws `BAD_SDP` unless every field of `c` is one a compact SDP can carry and rebuild. */
export function assertCompactSdp(c: CompactSdp): void {
  const fail = (field: string, problem: string): never => {
    throw new MeshsyncError('BAD_SDP', `compact SDP: ${field}: ${problem}`, {
      details: { field },
    });
  };
  if (typeof c !== 'object' || c === null) fail('sdp', 'not an object');
  if (c.type !== 'offer' && c.type !== 'answer') fail('type', 'not offer or answer');
  const ufrag = iceTextProblem(c.ufrag, UFRAG_LENGTH);
  if (ufrag) fail('ufrag', ufrag);
  const pwd = iceTextProblem(c.pwd, PWD_LENGTH);
  if (pwd) fail('pwd', pwd);
  const fp: unknown = c.fingerprint;
  if (typeof fp !== 'object' || fp === null) fail('fingerprint', 'missing');
  const { algorithm, hash } = c.fingerprint;
  if (!(FINGERPRINT_ALGORITHMS as readonly unknown[]).includes(algorithm)) {
    fail('fingerprint', 'unsupported algorithm');
  }
  if (!(hash instanceof Uint8Array) || hash.length !== FINGERPRINT_LENGTH[algorithm]) {
    fail('fingerprint', 'hash of the wrong length');
  }
  if (!(SETUP_ROLES as readonly unknown[]).includes(c.setup)) fail('setup', 'bad role');
  if (c.type === 'answer' && c.setup === 'actpass') fail('setup', 'an answer cannot be actpass');
  if (!Array.isArray(c.candidates)) fail('candidates', 'not a list');
  if (c.candidates.length > MAX_COMPACT_CANDIDATES) {
    fail('candidates', `more than ${MAX_COMPACT_CANDIDATES}`);
  }
  const seen = new Set<string>();
  c.candidates.forEach((candidate, i) => {
    const problem = candidateProblem(candidate);
    if (problem) fail(`candidates[${i}]`, problem);
    const key = candidateKey(candidate);
    if (seen.has(key)) fail(`candidates[${i}]`, 'duplicate');
    seen.add(key);
  });
  if (!isInt(c.sctpPort, 1, 0xffff)) fail('sctpPort', 'not in 1..65535');
  if (!isInt(c.maxMessageSize, 0, 0xffffffff)) fail('maxMessageSize', 'not a u32');
  if (typeof c.mid !== 'string' || !MID_PATTERN.test(c.mid)) fail('mid', 'not a 1..32 char token');
}
