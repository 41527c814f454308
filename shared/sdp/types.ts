/**
 * The compact description of a data-channel-only WebRTC session: only what the other side
 * needs to connect (ICE credentials, DTLS fingerprint and role, candidates, SCTP parameters).
 * Everything else in an SDP is rebuilt from constants by `rebuildSdp`.
 */

/** Candidate types of RFC 8445, in the order of their 2-bit code in the binary form. */
export const CANDIDATE_KINDS = ['host', 'srflx', 'prflx', 'relay'] as const;
export type CandidateKind = (typeof CANDIDATE_KINDS)[number];

/** ICE-TCP candidate types (RFC 6544). */
export const TCP_TYPES = ['active', 'passive', 'so'] as const;
export type TcpType = (typeof TCP_TYPES)[number];

/** One ICE candidate (component 1; a data channel needs no other). */
export interface CompactCandidate {
  kind: CandidateKind;
  protocol: 'udp' | 'tcp';
  /** Present exactly when `protocol` is `tcp`. */
  tcpType?: TcpType;
  /** Canonical text: dotted IPv4, RFC 5952 IPv6, or a lower-case `<uuid>.local` mDNS name. */
  address: string;
  /** 1..65535 (ICE-TCP active candidates use the discard port 9). */
  port: number;
}

export const FINGERPRINT_ALGORITHMS = ['sha-256', 'sha-384', 'sha-512'] as const;
export type FingerprintAlgorithm = (typeof FINGERPRINT_ALGORITHMS)[number];

/** Hash length in bytes of each fingerprint algorithm. */
export const FINGERPRINT_LENGTH: Readonly<Record<FingerprintAlgorithm, number>> = {
  'sha-256': 32,
  'sha-384': 48,
  'sha-512': 64,
};

export const SETUP_ROLES = ['actpass', 'active', 'passive'] as const;
export type SetupRole = (typeof SETUP_ROLES)[number];

export interface CompactSdp {
  type: 'offer' | 'answer';
  /** ICE username fragment: 4..256 ICE characters (RFC 8839). */
  ufrag: string;
  /** ICE password: 22..256 ICE characters (RFC 8839). */
  pwd: string;
  /** The DTLS certificate's fingerprint (one: the strongest hash is not needed, any one binds). */
  fingerprint: { algorithm: FingerprintAlgorithm; hash: Uint8Array };
  /** DTLS role (RFC 5763): offers are `actpass`, answers `active` or `passive`. */
  setup: SetupRole;
  /** Deduplicated, in preference order (the rebuilt priorities follow this order). */
  candidates: CompactCandidate[];
  /** SCTP port (RFC 8841); 5000 when the SDP has none. */
  sctpPort: number;
  /** Largest message the sender accepts (RFC 8841); 0 = no limit, 65536 when the SDP has none. */
  maxMessageSize: number;
  /** The media id of the application section (`a=mid`), echoed by the answer. */
  mid: string;
}

/** Values the binary form leaves out (a flag bit tells when a field differs from these). */
export const COMPACT_DEFAULTS = {
  sctpPort: 5000,
  maxMessageSize: 262144,
  mid: '0',
} as const;

/** The SCTP port when an SDP gives none (RFC 8841). */
export const SDP_DEFAULT_SCTP_PORT = 5000;
/** The max-message-size when an SDP gives none (RFC 8841: 64 KiB). */
export const SDP_DEFAULT_MAX_MESSAGE_SIZE = 65536;

/** Most candidates a compact SDP carries; `compactSdp` keeps the preferred ones. */
export const MAX_COMPACT_CANDIDATES = 16;

/** ICE characters (RFC 8839 `ice-char`). */
export const ICE_CHARS = /^[A-Za-z0-9+/]*$/;
export const UFRAG_LENGTH = { min: 4, max: 256 } as const;
export const PWD_LENGTH = { min: 22, max: 256 } as const;

/** `a=mid` values we carry: an RFC 4566 token of 1..32 characters. */
export const MID_PATTERN = /^[A-Za-z0-9!#$%&'*+\-.^_`{|}~]{1,32}$/;
