import { MeshsyncError } from '../errors.js';
import { equalBytes } from '../crypto/bytes.js';
import { derive } from '../crypto/derive.js';
import type { Identity } from '../crypto/identity.js';
import { readCompactSdp, writeCompactSdp } from '../sdp/sdp-binary.js';
import type { CompactSdp } from '../sdp/types.js';
import { readEndpoints, writeEndpoints, type Endpoint } from './endpoint.js';
import {
  openToken,
  sealToken,
  tokenBytes,
  TOKEN_KINDS,
  type TokenHeader,
  type TokenKind,
} from './envelope.js';
import { TOKEN_SECRET_BYTES } from './invite-token.js';

const TAG_BYTES = 16;

/**
 * An offer token: pairs two devices by hand with no server. Device A shows it as a QR code: its
 * WebRTC offer compacted (ICE credentials, DTLS fingerprint, candidates), its key (as signer),
 * where else to reach it, and a one-time secret that also works as an invite. B rebuilds the
 * SDP, answers, and shows an answer token (or connects to an endpoint directly).
 */
export interface OfferToken extends TokenHeader {
  kind: 'offer';
  secret: Uint8Array;
  sdp: CompactSdp;
  endpoints: Endpoint[];
}

/** The answer: B's compacted SDP, and a tag proving B read A's offer (not its secret). */
export interface AnswerToken extends TokenHeader {
  kind: 'answer';
  offerTag: Uint8Array;
  sdp: CompactSdp;
  endpoints: Endpoint[];
}

/** Ties an answer to the offer whose secret it saw. */
export function answerTag(offerSecret: Uint8Array): Uint8Array {
  return derive('meshsync/answer-tag', offerSecret).slice(0, TAG_BYTES);
}

export function encodeOfferToken(
  offer: {
    secret: Uint8Array;
    expiresAt: number;
    sdp: CompactSdp;
    endpoints?: readonly Endpoint[];
  },
  identity: Identity,
): string {
  if (offer.secret.length !== TOKEN_SECRET_BYTES) {
    throw new MeshsyncError('INVALID_VALUE', `an offer secret is ${TOKEN_SECRET_BYTES} bytes`);
  }
  if (offer.sdp.type !== 'offer') throw new MeshsyncError('INVALID_VALUE', 'not an offer SDP');
  return sealToken(
    'offer',
    offer.expiresAt,
    (w) => {
      w.bytes(offer.secret);
      writeCompactSdp(w, offer.sdp);
      writeEndpoints(w, offer.endpoints ?? []);
    },
    identity,
  );
}

export function decodeOfferToken(text: string, now: number = Date.now()): OfferToken {
  return openToken(text, 'offer', now, (r) => {
    const secret = r.bytes(TOKEN_SECRET_BYTES, 'secret');
    const sdp = readCompactSdp(r);
    if (sdp.type !== 'offer') r.fail('sdp', 'an answer inside an offer token');
    return { kind: 'offer' as const, secret, sdp, endpoints: readEndpoints(r) };
  });
}

export function encodeAnswerToken(
  answer: {
    offerSecret: Uint8Array;
    expiresAt: number;
    sdp: CompactSdp;
    endpoints?: readonly Endpoint[];
  },
  identity: Identity,
): string {
  if (answer.sdp.type !== 'answer') throw new MeshsyncError('INVALID_VALUE', 'not an answer SDP');
  return sealToken(
    'answer',
    answer.expiresAt,
    (w) => {
      w.bytes(answerTag(answer.offerSecret));
      writeCompactSdp(w, answer.sdp);
      writeEndpoints(w, answer.endpoints ?? []);
    },
    identity,
  );
}

/** Reads an answer and checks it answers the offer made with `offerSecret` (else BAD_TOKEN). */
export function decodeAnswerToken(
  text: string,
  offerSecret: Uint8Array,
  now: number = Date.now(),
): AnswerToken {
  const answer = openToken(text, 'answer', now, (r) => {
    const offerTag = r.bytes(TAG_BYTES, 'offer tag');
    const sdp = readCompactSdp(r);
    if (sdp.type !== 'answer') r.fail('sdp', 'an offer inside an answer token');
    return { kind: 'answer' as const, offerTag, sdp, endpoints: readEndpoints(r) };
  });
  if (!equalBytes(answer.offerTag, answerTag(offerSecret))) {
    throw new MeshsyncError('BAD_TOKEN', 'this answer is for another offer');
  }
  return answer;
}

/** The kind of a printed token, without checking anything else (for routing pasted text). */
export function tokenKind(text: string): TokenKind {
  const bytes = tokenBytes(text);
  const kind = Object.entries(TOKEN_KINDS).find(([, b]) => b === bytes[1])?.[0];
  if (kind === undefined) throw new MeshsyncError('BAD_TOKEN', 'unknown token kind');
  return kind as TokenKind;
}
