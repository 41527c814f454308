import { MeshsyncError } from '../errors.js';
import { parseCandidate, typePreference } from './candidate.js';
import { assertCompactSdp, candidateKey, iceTextProblem } from './checks.js';
import {
  FINGERPRINT_ALGORITHMS,
  FINGERPRINT_LENGTH,
  MAX_COMPACT_CANDIDATES,
  PWD_LENGTH,
  SDP_DEFAULT_MAX_MESSAGE_SIZE,
  SDP_DEFAULT_SCTP_PORT,
  SETUP_ROLES,
  UFRAG_LENGTH,
  type CompactCandidate,
  type CompactSdp,
  type FingerprintAlgorithm,
} from './types.js';

export type {
  CandidateKind,
  CompactCandidate,
  CompactSdp,
  FingerprintAlgorithm,
  SetupRole,
  TcpType,
} from './types.js';

export interface CompactSdpOptions {
  /** Most candidates to keep (the preferred ones); 1..16, default 16. */
  maxCandidates?: number;
  /** Keeps only the candidates it returns true for (for example UDP only, to save bytes). */
  filter?: (candidate: CompactCandidate) => boolean;
  /** Told about every candidate or fingerprint left out, and why (for logs). */
  onDrop?: (what: string, reason: string) => void;
}

/** Longest SDP text `compactSdp` reads. */
const MAX_SDP_CHARS = 64 * 1024;
/** Transport protocols of an SCTP-over-DTLS application section (RFC 8841, and the older draft). */
const SCTP_PROTOCOLS = ['UDP/DTLS/SCTP', 'TCP/DTLS/SCTP', 'DTLS/SCTP'];

function bad(message: string): never {
  throw new MeshsyncError('BAD_SDP', message);
}

/** Values of the `a=<name>` attributes among `lines` (`''` for a flag without value). */
function attributes(lines: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (const line of lines) {
    if (line === `a=${name}`) out.push('');
    else if (line.startsWith(`a=${name}:`)) out.push(line.slice(name.length + 3).trim());
  }
  return out;
}

/** The session-level lines and the lines of the first usable data-channel section. */
function splitSdp(sdp: string): { session: string[]; media: string[] } {
  if (typeof sdp !== 'string' || sdp.length > MAX_SDP_CHARS) bad('not an SDP text of <= 64 KiB');
  const lines = sdp.split(/\r?\n/).filter((line) => line !== '');
  if (lines[0] !== 'v=0') bad('the SDP does not start with v=0');
  const sections: string[][] = [[]];
  for (const line of lines) {
    if (!/^[a-z]=/.test(line)) bad(`malformed SDP line ${JSON.stringify(line.slice(0, 40))}`);
    if (line.startsWith('m=')) sections.push([]);
    sections[sections.length - 1]?.push(line);
  }
  const [session = [], ...medias] = sections;
  for (const media of medias) {
    const m = /^m=application ([0-9]+)(?:\/[0-9]+)? ([A-Za-z/]+) /.exec(media[0] ?? '');
    if (!m || !SCTP_PROTOCOLS.includes(m[2]?.toUpperCase() ?? '')) continue;
    if (m[1] === '0' && attributes(media, 'bundle-only').length === 0) continue; // rejected
    return { session, media };
  }
  return bad('no application (data channel) section');
}

/** Media-level values of an attribute, else session-level ones. */
function scoped(session: string[], media: string[], name: string): string[] {
  const own = attributes(media, name);
  return own.length > 0 ? own : attributes(session, name);
}

function parseFingerprint(
  values: string[],
  onDrop: CompactSdpOptions['onDrop'],
): CompactSdp['fingerprint'] {
  const found = new Map<FingerprintAlgorithm, Uint8Array>();
  for (const value of values) {
    const [name = '', hex = '', ...rest] = value.split(/ +/);
    const algorithm = FINGERPRINT_ALGORITHMS.find((a) => a === name.toLowerCase());
    if (!algorithm) {
      onDrop?.(`fingerprint ${name}`, 'unsupported hash algorithm');
      continue;
    }
    const pairs = hex.split(':');
    if (
      rest.length > 0 ||
      pairs.length !== FINGERPRINT_LENGTH[algorithm] ||
      !pairs.every((p) => /^[0-9A-Fa-f]{2}$/.test(p))
    ) {
      bad(`malformed ${algorithm} fingerprint`);
    }
    found.set(
      algorithm,
      Uint8Array.from(pairs, (p) => parseInt(p, 16)),
    );
  }
  // Any one fingerprint binds the certificate; the shortest keeps the token small.
  for (const algorithm of FINGERPRINT_ALGORITHMS) {
    const hash = found.get(algorithm);
    if (hash) return { algorithm, hash };
  }
  return bad('no sha-256/384/512 fingerprint');
}

function parseUint(values: string[], name: string, fallback: number, max: number): number {
  const [value] = values;
  if (value === undefined) return fallback;
  if (!/^[0-9]{1,10}$/.test(value) || Number(value) > max) bad(`bad a=${name}`);
  return Number(value);
}

function sctpPort(media: string[]): number {
  const direct = attributes(media, 'sctp-port');
  if (direct.length > 0) return parseUint(direct, 'sctp-port', SDP_DEFAULT_SCTP_PORT, 0xffff);
  // Older drafts: `a=sctpmap:5000 webrtc-datachannel 1024`, and 5000 as the m-line format.
  const legacy = attributes(media, 'sctpmap').map((v) => v.split(' ')[0] ?? '');
  return parseUint(legacy, 'sctpmap', SDP_DEFAULT_SCTP_PORT, 0xffff);
}

/** The candidates of the section, deduplicated, sorted by preference, at most `max`. */
function candidates(media: string[], max: number, options: CompactSdpOptions): CompactCandidate[] {
  const { filter, onDrop } = options;
  const parsed: { candidate: CompactCandidate; priority: number }[] = [];
  for (const value of attributes(media, 'candidate')) {
    const result = parseCandidate(value);
    if (!result.ok) onDrop?.(`candidate ${value}`, result.reason);
    else if (filter && !filter(result.candidate)) onDrop?.(`candidate ${value}`, 'filtered out');
    else parsed.push(result);
  }
  // Stable: by the type preference a rebuilt SDP gives, then by the stack's own priority.
  parsed.sort(
    (a, b) => typePreference(b.candidate) - typePreference(a.candidate) || b.priority - a.priority,
  );
  const seen = new Set<string>();
  const out: CompactCandidate[] = [];
  for (const { candidate } of parsed) {
    const key = candidateKey(candidate);
    if (seen.has(key)) {
      onDrop?.(`candidate ${key}`, 'duplicate');
    } else if (out.length >= max) {
      onDrop?.(`candidate ${key}`, `more than ${max} candidates`);
    } else {
      seen.add(key);
      out.push(candidate);
    }
  }
  return out;
}

/**
 * Keeps what a data-channel-only peer needs from a complete (non-trickle) SDP, as produced by
 * werift, @roamhq/wrtc or a browser. Throws `BAD_SDP` when a required part is missing or
 * malformed (no application section, ICE credentials, fingerprint, setup role or mid; an ICE
 * lite agent, which the compact form cannot express). Candidates it cannot carry are dropped
 * (see `options.onDrop`); an SDP left without candidates is still valid (trickle may follow).
 */
export function compactSdp(
  type: 'offer' | 'answer',
  sdp: string,
  options: CompactSdpOptions = {},
): CompactSdp {
  const max = options.maxCandidates ?? MAX_COMPACT_CANDIDATES;
  if (!Number.isInteger(max) || max < 1 || max > MAX_COMPACT_CANDIDATES) {
    throw new MeshsyncError('INVALID_OPTION', `maxCandidates must be 1..${MAX_COMPACT_CANDIDATES}`);
  }
  if (type !== 'offer' && type !== 'answer') bad('type must be offer or answer');
  const { session, media } = splitSdp(sdp);
  if (scoped(session, media, 'ice-lite').length > 0) bad('ICE lite agents are not supported');
  const [ufrag] = scoped(session, media, 'ice-ufrag');
  const ufragProblem = iceTextProblem(ufrag, UFRAG_LENGTH);
  if (ufragProblem) bad(`a=ice-ufrag: ${ufragProblem}`);
  const [pwd] = scoped(session, media, 'ice-pwd');
  const pwdProblem = iceTextProblem(pwd, PWD_LENGTH);
  if (pwdProblem) bad(`a=ice-pwd: ${pwdProblem}`);
  const [setupText] = scoped(session, media, 'setup');
  const setup = SETUP_ROLES.find((role) => role === setupText);
  if (!setup) bad(`a=setup: ${setupText === undefined ? 'missing' : 'not actpass/active/passive'}`);
  const [mid] = attributes(media, 'mid');
  if (mid === undefined) bad('a=mid: missing');
  const compact: CompactSdp = {
    type,
    ufrag: ufrag as string,
    pwd: pwd as string,
    fingerprint: parseFingerprint(scoped(session, media, 'fingerprint'), options.onDrop),
    setup,
    candidates: candidates(media, max, options),
    sctpPort: sctpPort(media),
    maxMessageSize: parseUint(
      attributes(media, 'max-message-size'),
      'max-message-size',
      SDP_DEFAULT_MAX_MESSAGE_SIZE,
      0xffffffff,
    ),
    mid,
  };
  assertCompactSdp(compact); // the remaining rules: sctp port range, mid token, answer role...
  return compact;
}
