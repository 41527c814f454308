import { MeshsyncError } from '../../shared/errors.js';
import type { ChannelBinding } from '../../shared/secure/proof.js';
import { compactSdp } from '../../shared/sdp/index.js';
import type { RtcDescription } from './rtc-port.js';

/**
 * What a connection's two SDPs say that the transport on top needs: the channel binding (both
 * DTLS fingerprints) and the largest message both sides take.
 */
export interface SdpFacts {
  /** The DTLS fingerprint hash bytes of our SDP, then of the remote's (what the handshake binds). */
  binding: ChannelBinding;
  /** The smaller of both sides' SCTP max-message-size (RFC 8841); Infinity when neither sets one. */
  maxMessageBytes: number;
}

/**
 * Reads both descriptions of a connection. The fingerprint is the one `compactSdp` keeps
 * (sha-256 when present), so a side that only saw a compacted and rebuilt SDP (an offer token)
 * computes the same bytes. Throws BAD_SDP.
 */
export function sdpFacts(local: RtcDescription | null, remote: RtcDescription | null): SdpFacts {
  if (!local || !remote) throw new MeshsyncError('BAD_SDP', 'descriptions are not both set');
  const ours = compactSdp(local.type, local.sdp);
  const theirs = compactSdp(remote.type, remote.sdp);
  const sizes = [ours.maxMessageSize, theirs.maxMessageSize].filter((n) => n > 0);
  return {
    binding: { local: ours.fingerprint.hash, remote: theirs.fingerprint.hash },
    maxMessageBytes: sizes.length > 0 ? Math.min(...sizes) : Number.POSITIVE_INFINITY,
  };
}
