import { fromBase64url, toBase64url } from '../../shared/crypto/bytes.js';
import { deviceIdFromKey } from '../../shared/crypto/identity.js';
import { isDeviceId, type DeviceId } from '../../shared/ids.js';
import type { JsonObject } from '../../shared/json.js';

/** The synced collections of a mesh. Applications should not write them directly. */
export const MEMBERS = '_mesh.members';
export const INVITES = '_mesh.invites';
/** Where each device listens for direct connections, written by the device itself. */
export const ENDPOINTS = '_mesh.endpoints';
export const MESH_COLLECTIONS = [MEMBERS, INVITES, ENDPOINTS] as const;

/** One device of the mesh, as every member sees it once synced. */
export interface MemberInfo {
  device: DeviceId;
  publicKey: Uint8Array;
  name: string;
  addedBy: DeviceId;
  /** ms since the epoch */
  addedAt: number;
  revokedBy?: DeviceId;
  revokedAt?: number;
}

export function memberValue(member: MemberInfo): JsonObject {
  const value: JsonObject = {
    key: toBase64url(member.publicKey),
    name: member.name,
    addedBy: member.addedBy,
    addedAt: member.addedAt,
  };
  if (member.revokedBy !== undefined) value.revokedBy = member.revokedBy;
  if (member.revokedAt !== undefined) value.revokedAt = member.revokedAt;
  return value;
}

const isTime = (v: unknown): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * Reads a member record. The record came through sync, so it is checked like wire input: a
 * record that is malformed, or whose key does not derive its id, counts as no member at all.
 */
export function readMember(id: string, value: JsonObject | null): MemberInfo | null {
  if (value === null || typeof value.key !== 'string' || value.key.length !== 43) return null;
  let publicKey: Uint8Array;
  try {
    publicKey = fromBase64url(value.key);
  } catch {
    return null;
  }
  if (publicKey.length !== 32 || deviceIdFromKey(publicKey) !== id) return null;
  const { name, addedBy, addedAt, revokedBy, revokedAt } = value;
  if (typeof name !== 'string' || name.length > 64 || !isDeviceId(addedBy) || !isTime(addedAt)) {
    return null;
  }
  const member: MemberInfo = { device: id as DeviceId, publicKey, name, addedBy, addedAt };
  // Any sign of revocation counts, even half of one.
  if (revokedBy !== undefined || revokedAt !== undefined) {
    member.revokedBy = isDeviceId(revokedBy) ? revokedBy : addedBy;
    member.revokedAt = isTime(revokedAt) ? revokedAt : 0;
  }
  return member;
}

/** A pending invite as kept in synced data: its secret, expiry, and who took it. */
export interface InviteRecord {
  secret: Uint8Array;
  expiresAt: number;
  createdBy: DeviceId;
  usedBy?: DeviceId;
}

export function readInvite(value: JsonObject | null): InviteRecord | null {
  if (value === null || typeof value.secret !== 'string') return null;
  const { expiresAt, createdBy, usedBy } = value;
  if (!isTime(expiresAt) || !isDeviceId(createdBy)) return null;
  let secret: Uint8Array;
  try {
    secret = fromBase64url(value.secret);
  } catch {
    return null;
  }
  if (secret.length !== 16) return null;
  const invite: InviteRecord = { secret, expiresAt, createdBy };
  if (usedBy !== undefined) invite.usedBy = isDeviceId(usedBy) ? usedBy : createdBy;
  return invite;
}
