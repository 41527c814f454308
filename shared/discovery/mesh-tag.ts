import { toBase64url, utf8 } from '../crypto/bytes.js';
import { derive } from '../crypto/derive.js';
import { MeshsyncError } from '../errors.js';

/**
 * The mesh tag a device puts in its LAN announcements (PROTOCOL.md section 24): members of one
 * mesh recognise each other by it, and a stranger learns nothing about the mesh from it. It is a
 * keyed hash of the mesh secret, the current time period and the announcing device's id, so it
 * changes every period, differs per device, and cannot be moved to another device id.
 */

/** How long one tag is valid before the next period's takes over. @default 3600 (one hour) */
export const MESH_TAG_PERIOD_SECONDS = 3600;
/** 16 bytes, base64url without padding. */
export const MESH_TAG_LENGTH = 22;
export const MESH_TAG_PATTERN = /^[A-Za-z0-9_-]{22}$/;

const LABEL = 'meshsync/lan-tag';

/** The period number at `nowMs`: whole periods since the Unix epoch. */
export function tagPeriod(nowMs: number, periodSeconds = MESH_TAG_PERIOD_SECONDS): number {
  checkPeriodSeconds(periodSeconds);
  return Math.floor(nowMs / (periodSeconds * 1000));
}

/** The tag of `device` in `period` under the mesh secret. */
export function meshTag(secret: Uint8Array, device: string, period: number): string {
  if (secret.length !== 32) throw new MeshsyncError('INVALID_VALUE', 'a mesh secret is 32 bytes');
  if (!Number.isSafeInteger(period) || period < 0) {
    throw new MeshsyncError('INVALID_VALUE', `a tag period is a whole number, got ${period}`);
  }
  return toBase64url(derive(LABEL, secret, u64(period), utf8(device)).subarray(0, 16));
}

/** The tag `device` announces at `nowMs`. */
export function currentMeshTag(
  secret: Uint8Array,
  device: string,
  nowMs: number,
  periodSeconds = MESH_TAG_PERIOD_SECONDS,
): string {
  return meshTag(secret, device, tagPeriod(nowMs, periodSeconds));
}

/**
 * True when `tag` is `device`'s tag for the current period, the previous one (a tag announced
 * just before a rollover is still cached by others), or the next one (a clock a little ahead).
 */
export function acceptsMeshTag(
  secret: Uint8Array,
  device: string,
  tag: string,
  nowMs: number,
  periodSeconds = MESH_TAG_PERIOD_SECONDS,
): boolean {
  if (!MESH_TAG_PATTERN.test(tag)) return false;
  const period = tagPeriod(nowMs, periodSeconds);
  let match = false;
  for (const p of [period, period - 1, period + 1]) {
    if (p >= 0 && sameText(meshTag(secret, device, p), tag)) match = true;
  }
  return match;
}

function checkPeriodSeconds(seconds: number): void {
  if (!Number.isSafeInteger(seconds) || seconds < 1) {
    throw new MeshsyncError('INVALID_OPTION', `tag period must be >= 1 s, got ${seconds}`);
  }
}

/** 8 bytes, big-endian. */
function u64(n: number): Uint8Array {
  const out = new Uint8Array(8);
  let rest = n;
  for (let i = 7; i >= 0; i--) {
    out[i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  return out;
}

/** Compares without an early exit, so timing does not tell how much of a guess was right. */
function sameText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
