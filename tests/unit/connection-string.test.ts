import { describe, expect, it } from 'vitest';
import { identityFromSeed } from '../../shared/crypto/identity.js';
import {
  formatConnectionString,
  parseConnectionString,
} from '../../shared/token/connection-string.js';
import { decodeInviteToken, encodeInviteToken } from '../../shared/token/invite-token.js';
import { codeOf } from '../support/codes.js';

const id = identityFromSeed(Uint8Array.from({ length: 32 }, (_, i) => i + 1));
const token = encodeInviteToken({ secret: new Uint8Array(16).fill(3), expiresAt: 2e12 }, id);

describe('connection strings', () => {
  it('round-trip with IPv4, IPv6 and host names, with and without a token', () => {
    const base = { device: id.device, publicKey: id.publicKey };
    for (const host of ['192.168.1.20', 'fe80::1', 'laptop.local']) {
      const text = formatConnectionString({ ...base, host, port: 8788, token });
      expect(text.startsWith('meshsync://')).toBe(true);
      const info = parseConnectionString(text);
      expect(info).toEqual({ ...base, host, port: 8788, token });
      expect(decodeInviteToken(info.token!, 1e12).secret).toEqual(new Uint8Array(16).fill(3));
    }
    expect(formatConnectionString({ ...base, host: '10.0.0.2', port: 1 })).toBe(
      `meshsync://10.0.0.2:1?id=xey4f22biomaqq6x&key=ebVWLo_mVPlAeLES6KmLp5AfhTrmlb7X4OORC60ElmQ`,
    );
  });

  it('refuses every malformed part with BAD_TOKEN', () => {
    const good = formatConnectionString({
      host: '10.0.0.2',
      port: 8788,
      device: id.device,
      publicKey: id.publicKey,
    });
    const other = identityFromSeed(new Uint8Array(32).fill(5));
    const bad = [
      good.replace('meshsync://', 'http://'),
      good.replace(':8788', ':0'),
      good.replace(':8788', ':70000'),
      good.replace(':8788', ''),
      good.replace('10.0.0.2', '10.0.0.256'),
      good.replace('10.0.0.2', 'bad_host!'),
      good.replace(`id=${id.device}`, `id=${other.device}`),
      good.replace(/key=[^&]+/, 'key=short'),
      good.replace(/&key=[^&]+/, ''),
      `${good}&extra=1`,
      `${good}&id=${id.device}`,
      `${good}&token=not*base32`,
      good.split('?')[0]!,
      'meshsync://' + 'a'.repeat(5000),
    ];
    for (const text of bad)
      expect(
        codeOf(() => parseConnectionString(text)),
        text,
      ).toBe('BAD_TOKEN');
  });
});
