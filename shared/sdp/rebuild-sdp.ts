import { MeshsyncError } from '../errors.js';
import { formatCandidates } from './candidate.js';
import { assertCompactSdp } from './checks.js';
import type { CompactSdp } from './types.js';

export interface RebuildSdpOptions {
  /** The `o=` session id: 1..19 digits. Default: derived from the fingerprint (stable per certificate). */
  sessionId?: string;
  /** The `o=` session version, 0..2^53-1; raise it for a new description of the same session. */
  sessionVersion?: number;
}

/** A positive decimal session id from the first 6 bytes of the fingerprint (below 2^53). */
function defaultSessionId(c: CompactSdp): string {
  let id = 0;
  for (const byte of c.fingerprint.hash.subarray(0, 6)) id = id * 256 + byte;
  return String(id + 1);
}

const hex = (hash: Uint8Array): string =>
  Array.from(hash, (b) => b.toString(16).toUpperCase().padStart(2, '0')).join(':');

/**
 * A complete, non-trickle SDP for `c` that werift, @roamhq/wrtc and browsers accept as a remote
 * description: one bundled `m=application` data-channel section with the ICE credentials,
 * fingerprint, DTLS role, SCTP parameters and every candidate (recomputed priorities and
 * foundations), closed by `a=end-of-candidates`. Lines end with CRLF. Throws `BAD_SDP` if `c`
 * is not a valid compact SDP, `INVALID_OPTION` on bad options.
 */
export function rebuildSdp(c: CompactSdp, options: RebuildSdpOptions = {}): string {
  assertCompactSdp(c);
  const sessionId = options.sessionId ?? defaultSessionId(c);
  if (!/^[1-9][0-9]{0,18}$/.test(sessionId)) {
    throw new MeshsyncError('INVALID_OPTION', 'sessionId must be 1..19 digits, no leading zero');
  }
  const version = options.sessionVersion ?? 2;
  if (!Number.isSafeInteger(version) || version < 0) {
    throw new MeshsyncError('INVALID_OPTION', 'sessionVersion must be a non-negative integer');
  }
  const lines = [
    'v=0',
    `o=- ${sessionId} ${version} IN IP4 127.0.0.1`,
    's=-',
    't=0 0',
    `a=group:BUNDLE ${c.mid}`,
    'a=msid-semantic: WMS',
    'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
    'c=IN IP4 0.0.0.0',
    `a=ice-ufrag:${c.ufrag}`,
    `a=ice-pwd:${c.pwd}`,
    'a=ice-options:trickle',
    `a=fingerprint:${c.fingerprint.algorithm} ${hex(c.fingerprint.hash)}`,
    `a=setup:${c.setup}`,
    `a=mid:${c.mid}`,
    `a=sctp-port:${c.sctpPort}`,
    `a=max-message-size:${c.maxMessageSize}`,
    ...formatCandidates(c.candidates).map((candidate) => `a=${candidate}`),
    'a=end-of-candidates',
  ];
  return `${lines.join('\r\n')}\r\n`;
}
