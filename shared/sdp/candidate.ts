import { addressFromBytes, addressToBytes, isUnspecified } from './ip-address.js';
import {
  CANDIDATE_KINDS,
  TCP_TYPES,
  type CandidateKind,
  type CompactCandidate,
  type TcpType,
} from './types.js';

/** A parsed `a=candidate` line: the compact candidate and the priority its stack gave it. */
export type ParsedCandidate =
  { ok: true; candidate: CompactCandidate; priority: number } | { ok: false; reason: string };

const drop = (reason: string): ParsedCandidate => ({ ok: false, reason });

/**
 * Parses the value of an `a=candidate:` attribute (RFC 8839 grammar, with the `tcptype`
 * extension of RFC 6544). Anything a compact SDP cannot carry (another component, a transport
 * other than UDP/TCP, a hostname that is not `<uuid>.local`, a zone id...) is dropped with a
 * reason rather than thrown: the other candidates may still connect.
 */
export function parseCandidate(value: string): ParsedCandidate {
  const tokens = value
    .replace(/^candidate:/, '')
    .trim()
    .split(/ +/);
  if (tokens.length < 8 || tokens[6] !== 'typ') return drop('malformed candidate line');
  const [, component, transport, priorityText, addressText, portText, , typeText] = tokens;
  if (component !== '1') return drop(`component ${component} (a data channel uses 1)`);
  const protocol = transport?.toLowerCase();
  if (protocol !== 'udp' && protocol !== 'tcp') return drop(`transport ${transport}`);
  if (!/^[0-9]{1,10}$/.test(priorityText ?? '') || Number(priorityText) > 0xffffffff) {
    return drop('bad priority');
  }
  const kind = CANDIDATE_KINDS.find((k) => k === typeText);
  if (!kind) return drop(`candidate type ${typeText}`);
  const address = addressToBytes(addressText ?? '');
  if (!address) return drop(`address ${addressText} (not IPv4, IPv6 or <uuid>.local)`);
  if (isUnspecified(address.bytes)) return drop(`unspecified address ${addressText}`);
  if (!/^[0-9]{1,5}$/.test(portText ?? '')) return drop('bad port');
  let port = Number(portText);
  let tcpType: TcpType | undefined;
  for (let i = 8; i + 1 < tokens.length; i += 2) {
    if (tokens[i] === 'tcptype') tcpType = TCP_TYPES.find((t) => t === tokens[i + 1]);
  }
  if (protocol === 'tcp' && !tcpType) return drop('TCP candidate without a known tcptype');
  // An active TCP candidate never listens: its port is meaningless, 9 by convention (RFC 6544).
  if (tcpType === 'active' && port === 0) port = 9;
  if (port < 1 || port > 0xffff) return drop(`port ${portText}`);
  const candidate: CompactCandidate = {
    kind,
    protocol,
    ...(protocol === 'tcp' ? { tcpType } : {}),
    address: addressFromBytes(address.family, address.bytes),
    port,
  };
  return { ok: true, candidate, priority: Number(priorityText) };
}

/** RFC 8445 type preferences; ICE-TCP candidates rank below UDP ones of the same type. */
const TYPE_PREFERENCE: Readonly<Record<'udp' | 'tcp', Record<CandidateKind, number>>> = {
  udp: { host: 126, prflx: 110, srflx: 100, relay: 2 },
  tcp: { host: 90, prflx: 80, srflx: 70, relay: 0 },
};

/** The type preference (0..126) a rebuilt SDP gives `c`; compact lists are sorted by it. */
export function typePreference(c: CompactCandidate): number {
  return TYPE_PREFERENCE[c.protocol][c.kind];
}

/** RFC 8445 priority for the candidate at `index` of a compact list (component 1). */
export function candidatePriority(c: CompactCandidate, index: number): number {
  const localPreference = 0xffff - index;
  return typePreference(c) * 0x1000000 + localPreference * 0x100 + (256 - 1);
}

/**
 * The `candidate:` attribute values of a compact list, with recomputed priorities (decreasing
 * along the list) and foundations (one per kind, protocol and address, as RFC 8445 asks).
 */
export function formatCandidates(candidates: readonly CompactCandidate[]): string[] {
  const foundations = new Map<string, number>();
  return candidates.map((c, index) => {
    const base = `${c.kind} ${c.protocol} ${c.address}`;
    const foundation = foundations.get(base) ?? foundations.size + 1;
    foundations.set(base, foundation);
    let line = `candidate:${foundation} 1 ${c.protocol} ${candidatePriority(c, index)} ${c.address} ${c.port} typ ${c.kind}`;
    if (c.tcpType) line += ` tcptype ${c.tcpType}`;
    return `${line} generation 0`;
  });
}
