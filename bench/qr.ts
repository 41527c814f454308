/**
 * Offer and answer tokens from the captured SDPs (werift, @roamhq/wrtc, Chromium): their size
 * and the QR version they need at error correction M (the target: 12 or lower), against the
 * baseline of putting the SDP itself in the QR code, measured in the same run. Then the time to
 * build a token and render it as PNG, and to decode the PNG back (medians of several runs).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { decodeQrPng, qrPng } from '../peer/node/qr-png.js';
import { fromBase32 } from '../shared/crypto/bytes.js';
import { identityFromSeed } from '../shared/crypto/identity.js';
import { QR_MAX_LENGTH, qrInfo } from '../shared/qr/index.js';
import { compactSdp } from '../shared/sdp/compact-sdp.js';
import { encodeAnswerToken, encodeOfferToken } from '../shared/token/offer-token.js';
import { formatInt, formatMs, formatRatio, median, printTable } from './table.js';

const RUNS = 7;

function versionOf(text: string): string {
  try {
    return String(qrInfo(text, { errorCorrection: 'M' }).version);
  } catch {
    return 'none (too long)';
  }
}

export async function qr(): Promise<void> {
  const dir = new URL('../tests/fixtures/sdp/', import.meta.url);
  const identity = identityFromSeed(new Uint8Array(32).fill(1));
  const secret = new Uint8Array(16).fill(7);
  const expiresAt = Date.now() + 600_000;
  const endpoints = [{ host: '192.168.1.20', port: 8788 }];
  const rows: string[][] = [];
  const timing: string[][] = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.sdp'))
    .sort()) {
    const sdp = readFileSync(new URL(file, dir), 'utf8');
    const type = file.includes('offer') ? 'offer' : 'answer';
    const make = (): string => {
      const compact = compactSdp(type, sdp);
      return type === 'offer'
        ? encodeOfferToken({ secret, expiresAt, sdp: compact, endpoints }, identity)
        : encodeAnswerToken({ offerSecret: secret, expiresAt, sdp: compact, endpoints }, identity);
    };
    const token = make();
    const compact = compactSdp(type, sdp);
    rows.push([
      file.replace('.sdp', ''),
      formatInt(sdp.length),
      versionOf(sdp),
      formatInt(compact.candidates.length),
      formatInt(fromBase32(token).length),
      formatInt(token.length),
      versionOf(token),
      formatRatio(token.length / sdp.length),
    ]);
    const build: number[] = [];
    const read: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      let t = performance.now();
      const png = await qrPng(make());
      build.push(performance.now() - t);
      t = performance.now();
      decodeQrPng(png);
      read.push(performance.now() - t);
    }
    timing.push([file.replace('.sdp', ''), formatMs(median(build)), formatMs(median(read))]);
  }
  printTable(
    `QR size of tokens vs the raw SDP (baseline), error correction M; version 12 holds ${formatInt(419)} base32 characters (version 40: ${formatInt(QR_MAX_LENGTH.M.alphanumeric)})`,
    [
      'fixture',
      'SDP chars',
      'SDP QR version',
      'candidates',
      'token bytes',
      'token chars',
      'token QR version',
      'chars vs SDP',
    ],
    rows,
  );
  printTable(
    `token build + PNG render, and PNG decode (median of ${RUNS} runs, ms)`,
    ['fixture', 'build+render', 'decode'],
    timing,
  );
}
