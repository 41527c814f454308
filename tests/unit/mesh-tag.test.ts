import { describe, expect, it } from 'vitest';
import {
  acceptsMeshTag,
  currentMeshTag,
  MESH_TAG_PATTERN,
  meshTag,
  tagPeriod,
} from '../../shared/discovery/mesh-tag.js';
import { MeshsyncError } from '../../shared/errors.js';

const secret = new Uint8Array(32).map((_, i) => i);
const other = new Uint8Array(32).fill(7);
const HOUR = 3_600_000;
const device = 'abcdefghijklmnop';

describe('the mesh tag', () => {
  it('is 16 bytes of base64url, fixed for a secret, device and period (known answer)', () => {
    const tag = meshTag(secret, device, 480_000);
    expect(tag).toMatch(MESH_TAG_PATTERN);
    expect(meshTag(secret, device, 480_000)).toBe(tag);
    // The vector in PROTOCOL.md section 24: another implementation must derive the same.
    expect(tag).toBe(KNOWN_TAG);
  });

  it('differs per period, per device and per secret', () => {
    const tags = new Set([
      meshTag(secret, device, 1),
      meshTag(secret, device, 2),
      meshTag(secret, 'qrstuvwxyz234567', 1),
      meshTag(other, device, 1),
    ]);
    expect(tags.size).toBe(4);
  });

  it('periods are whole hours since the epoch by default', () => {
    expect(tagPeriod(0)).toBe(0);
    expect(tagPeriod(HOUR - 1)).toBe(0);
    expect(tagPeriod(HOUR)).toBe(1);
    expect(tagPeriod(90_000, 60)).toBe(1);
  });

  it('members accept the current and the previous period (and the next, for clock skew)', () => {
    const madeAt = 1000 * HOUR + HOUR - 1; // one ms before a rollover
    const tag = currentMeshTag(secret, device, madeAt);
    expect(acceptsMeshTag(secret, device, tag, madeAt)).toBe(true);
    expect(acceptsMeshTag(secret, device, tag, madeAt + 2)).toBe(true); // next period
    expect(acceptsMeshTag(secret, device, tag, madeAt + HOUR)).toBe(true); // still the previous
    expect(acceptsMeshTag(secret, device, tag, madeAt + HOUR + 2)).toBe(false); // two back
    expect(acceptsMeshTag(secret, device, tag, madeAt - HOUR)).toBe(true); // a clock behind
    expect(acceptsMeshTag(secret, device, tag, madeAt - 2 * HOUR)).toBe(false);
  });

  it('refuses a wrong secret, another device id and malformed tags', () => {
    const now = 5 * HOUR;
    const tag = currentMeshTag(secret, device, now);
    expect(acceptsMeshTag(other, device, tag, now)).toBe(false);
    expect(acceptsMeshTag(secret, 'qrstuvwxyz234567', tag, now)).toBe(false);
    for (const bad of ['', tag.slice(1), `${tag}A`, tag.replace(/./, '+'), 'x'.repeat(1000)]) {
      expect(acceptsMeshTag(secret, device, bad, now)).toBe(false);
    }
  });

  it('throws on a secret of the wrong size or a bad period', () => {
    const code = (fn: () => unknown): string | undefined => {
      try {
        fn();
      } catch (err) {
        return err instanceof MeshsyncError ? err.code : 'other';
      }
      return undefined;
    };
    expect(code(() => meshTag(new Uint8Array(16), device, 1))).toBe('INVALID_VALUE');
    expect(code(() => meshTag(secret, device, -1))).toBe('INVALID_VALUE');
    expect(code(() => meshTag(secret, device, 1.5))).toBe('INVALID_VALUE');
    expect(code(() => tagPeriod(0, 0))).toBe('INVALID_OPTION');
  });
});

const KNOWN_TAG = 'XOw-IjBAYhUTDj_eYhRaGg';
