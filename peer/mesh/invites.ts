import { MeshsyncError } from '../../shared/errors.js';
import { toBase64url } from '../../shared/crypto/bytes.js';
import type { DeviceId } from '../../shared/ids.js';
import { inviteIdText, TOKEN_SECRET_BYTES } from '../../shared/token/invite-token.js';
import type { Peer } from '../peer.js';
import { defaultRandom } from '../replica.js';
import { INVITES, readInvite } from './member-record.js';

/** Default lifetime of an invite or offer token. */
export const INVITE_TTL_MS = 900_000;

/** Makes a one-time secret and records it in the synced invites, so any member can take it. */
export async function registerInvite(
  peer: Peer,
  createdBy: DeviceId,
  ttlMs: number = INVITE_TTL_MS,
): Promise<{ secret: Uint8Array; expiresAt: number }> {
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 1) {
    throw new MeshsyncError('INVALID_OPTION', 'ttlMs must be a positive integer');
  }
  const secret = defaultRandom(TOKEN_SECRET_BYTES);
  // Whole seconds: the token carries seconds, and both must agree.
  const expiresAt = Math.floor((Date.now() + ttlMs) / 1000) * 1000;
  await peer.collection(INVITES).put(inviteIdText(secret), {
    secret: toBase64url(secret),
    expiresAt,
    createdBy,
  });
  return { secret, expiresAt };
}

/** The secret of a usable invite; throws TOKEN_USED, TOKEN_EXPIRED or AUTH_FAILED (unknown). */
export async function takeInvite(peer: Peer, id: Uint8Array): Promise<{ secret: Uint8Array }> {
  const invite = readInvite(await peer.collection(INVITES).get(toBase64url(id)));
  if (!invite) throw new MeshsyncError('AUTH_FAILED', 'no such invite');
  if (invite.usedBy !== undefined) {
    throw new MeshsyncError('TOKEN_USED', 'this invite was already used');
  }
  if (invite.expiresAt <= Date.now()) {
    throw new MeshsyncError('TOKEN_EXPIRED', 'this invite has expired');
  }
  return { secret: invite.secret };
}

export async function markInviteUsed(peer: Peer, id: Uint8Array, by: DeviceId): Promise<void> {
  await peer.collection(INVITES).patch(toBase64url(id), { usedBy: by });
}
