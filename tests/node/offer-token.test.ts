import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Mesh } from '../../peer/mesh/mesh.js';
import { decodeQrPng, qrPng } from '../../peer/node/qr-png.js';
import { createPeer } from '../../peer/peer.js';
import { MemoryStore } from '../../peer/store/memory-store.js';
import { createMemoryTransportPair } from '../../peer/transport/memory-transport.js';
import { silentLogger } from '../../shared/log.js';
import { fromBase32, toBase32 } from '../../shared/crypto/bytes.js';
import { identityFromSeed } from '../../shared/crypto/identity.js';
import { qrInfo } from '../../shared/qr/index.js';
import { compactSdp } from '../../shared/sdp/compact-sdp.js';
import {
  decodeAnswerToken,
  decodeOfferToken,
  encodeAnswerToken,
  encodeOfferToken,
  tokenKind,
} from '../../shared/token/offer-token.js';
import { codeOf } from '../support/codes.js';

const dir = new URL('../fixtures/sdp/', import.meta.url);
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith('.sdp'))
  .map((f) => ({ name: f, sdp: readFileSync(new URL(f, dir), 'utf8') }));
const offers = fixtures.filter((f) => f.name.includes('offer'));
const answers = fixtures.filter((f) => f.name.includes('answer'));
const alice = identityFromSeed(new Uint8Array(32).fill(1));
const bob = identityFromSeed(new Uint8Array(32).fill(2));
const secret = new Uint8Array(16).fill(7);
const NOW = Date.UTC(2026, 10, 22);
const expiresAt = NOW + 10 * 60_000;
const endpoints = [{ host: '192.168.1.20', port: 8788 }];

describe('offer and answer tokens from real SDPs (werift, wrtc, Chromium)', () => {
  it('has offers and answers from all three stacks', () => {
    for (const stack of ['werift', 'wrtc', 'chromium']) {
      expect(offers.some((f) => f.name.startsWith(stack))).toBe(true);
      expect(answers.some((f) => f.name.startsWith(stack))).toBe(true);
    }
  });

  for (const { name, sdp } of offers) {
    it(`${name}: round-trips, and fits a QR code of version <= 12 at M that decodes back`, async () => {
      const compact = compactSdp('offer', sdp);
      const token = encodeOfferToken({ secret, expiresAt, sdp: compact, endpoints }, alice);
      const info = qrInfo(token, { errorCorrection: 'M' });
      console.log(
        `${name}: offer token ${token.length} chars (${fromBase32(token).length} bytes), ` +
          `${compact.candidates.length} candidates, QR version ${info.version} at M`,
      );
      expect(info.version).toBeLessThanOrEqual(12);
      expect(tokenKind(token)).toBe('offer');
      const decoded = decodeOfferToken(token, NOW);
      expect(decoded.sdp).toEqual(compact);
      expect(decoded.secret).toEqual(secret);
      expect(decoded.endpoints).toEqual(endpoints);
      expect(decoded.signer.device).toBe(alice.device);
      const png = await qrPng(token);
      expect(decodeQrPng(png)).toBe(token);
    });
  }

  for (const { name, sdp } of answers) {
    it(`${name}: answer tokens are tied to their offer`, () => {
      const compact = compactSdp('answer', sdp);
      const token = encodeAnswerToken({ offerSecret: secret, expiresAt, sdp: compact }, bob);
      expect(qrInfo(token).version).toBeLessThanOrEqual(12);
      const decoded = decodeAnswerToken(token, secret, NOW);
      expect(decoded.sdp).toEqual(compact);
      expect(decoded.signer.device).toBe(bob.device);
      expect(codeOf(() => decodeAnswerToken(token, new Uint8Array(16), NOW))).toBe('BAD_TOKEN');
      expect(codeOf(() => decodeOfferToken(token, NOW))).toBe('BAD_TOKEN');
    });
  }

  it('refuses every flipped byte, every truncation, expiry; offers and answers are not swapped', () => {
    const compact = compactSdp('offer', offers[0]!.sdp);
    const token = encodeOfferToken({ secret, expiresAt, sdp: compact, endpoints }, alice);
    const bytes = fromBase32(token);
    for (let i = 0; i < bytes.length; i++) {
      const copy = bytes.slice();
      copy[i]! ^= 0x10;
      expect(
        codeOf(() => decodeOfferToken(toBase32(copy), NOW)),
        `byte ${i}`,
      ).toMatch(/^(BAD_TOKEN|TOKEN_SIGNATURE|TOKEN_EXPIRED)$/);
    }
    for (let n = 0; n < bytes.length; n += 3) {
      expect(codeOf(() => decodeOfferToken(toBase32(bytes.subarray(0, n)), NOW))).toMatch(
        /^(BAD_TOKEN|TOKEN_SIGNATURE)$/,
      );
    }
    expect(codeOf(() => decodeOfferToken(token, expiresAt))).toBe('TOKEN_EXPIRED');
    expect(
      codeOf(() =>
        encodeOfferToken({ secret, expiresAt, sdp: { ...compact, type: 'answer' } }, alice),
      ),
    ).toBe('INVALID_VALUE');
  });
});

describe('mesh offer tokens', () => {
  it('fit version 12 by leaving out the least preferred candidates, and work as an invite', async () => {
    const a = await createPeer({ store: new MemoryStore(), logger: silentLogger });
    const b = await createPeer({ store: new MemoryStore(), logger: silentLogger });
    const mesh = await Mesh.create(a, { name: 'A' });
    const compact = compactSdp('offer', offers.find((f) => f.name.startsWith('wrtc'))!.sdp);
    const many = Array.from({ length: 12 }, (_, i) => ({
      kind: 'host' as const,
      protocol: 'udp' as const,
      address: `2001:db8::${i + 1}`,
      port: 50000 + i,
    }));
    const sdp = { ...compact, candidates: [...compact.candidates, ...many] };
    const offer = await mesh.offerToken(sdp, { endpoints });
    expect(offer.token.length).toBeLessThanOrEqual(419);
    expect(qrInfo(offer.token).version).toBeLessThanOrEqual(12);
    expect(offer.candidates).toBeLessThan(sdp.candidates.length);
    expect(decodeOfferToken(offer.token).sdp.candidates).toEqual(
      sdp.candidates.slice(0, offer.candidates),
    );
    // The offer's secret is an invite: the scanning device joins with the token itself.
    const [ta, tb] = createMemoryTransportPair();
    const [session, joined] = await Promise.all([
      mesh.connect(ta),
      Mesh.join(b, offer.token, tb, { name: 'B' }),
    ]);
    await session.whenReady();
    expect(joined.session.remoteDevice).toBe(a.device);
    await a.stop();
    await b.stop();
  });
});
