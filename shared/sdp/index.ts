/** Compact WebRTC SDP for data-channel-only sessions: parse, rebuild, and a minimal binary form. */
export {
  compactSdp,
  type CandidateKind,
  type CompactCandidate,
  type CompactSdp,
  type CompactSdpOptions,
  type FingerprintAlgorithm,
  type SetupRole,
  type TcpType,
} from './compact-sdp.js';
export { rebuildSdp, type RebuildSdpOptions } from './rebuild-sdp.js';
export {
  decodeCompactSdp,
  encodeCompactSdp,
  readCompactSdp,
  writeCompactSdp,
} from './sdp-binary.js';
export { assertCompactSdp } from './checks.js';
export { COMPACT_DEFAULTS, MAX_COMPACT_CANDIDATES } from './types.js';
