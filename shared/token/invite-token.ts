import { MeshsyncError } from '../errors.js';
import { toBase64url } from '../crypto/bytes.js';
import { derive } from '../crypto/derive.js';
import type { Identity } from '../crypto/identity.js';
import { openToken, sealToken, type TokenHeader } from './envelope.js';
import { readEndpoints, writeEndpoints, type Endpoint } from './endpoint.js';

export const TOKEN_SECRET_BYTES = 16;

/**
 * An invite: lets a new device join the mesh through any member that can be reached. It holds
 * the inviter's key (as signer), where to reach it, and a one-time secret; never the mesh
 * secret. Members keep the invite in synced data, so any of them can take the join.
 */
export interface InviteToken extends TokenHeader {
  kind: 'invite';
  secret: Uint8Array;
  endpoints: Endpoint[];
}

/** Names an invite without revealing its secret (the joining device sends it in its hello). */
export function inviteId(secret: Uint8Array): Uint8Array {
  return derive('meshsync/invite-id', secret).slice(0, 8);
}

export function inviteIdText(secret: Uint8Array): string {
  return toBase64url(inviteId(secret));
}

export function encodeInviteToken(
  invite: { secret: Uint8Array; expiresAt: number; endpoints?: readonly Endpoint[] },
  identity: Identity,
): string {
  if (invite.secret.length !== TOKEN_SECRET_BYTES) {
    throw new MeshsyncError('INVALID_VALUE', `an invite secret is ${TOKEN_SECRET_BYTES} bytes`);
  }
  return sealToken(
    'invite',
    invite.expiresAt,
    (w) => {
      w.bytes(invite.secret);
      writeEndpoints(w, invite.endpoints ?? []);
    },
    identity,
  );
}

/** Reads and checks an invite token (BAD_TOKEN, TOKEN_SIGNATURE, TOKEN_EXPIRED). */
export function decodeInviteToken(text: string, now: number = Date.now()): InviteToken {
  return openToken(text, 'invite', now, (r) => ({
    kind: 'invite' as const,
    secret: r.bytes(TOKEN_SECRET_BYTES, 'secret'),
    endpoints: readEndpoints(r),
  }));
}
