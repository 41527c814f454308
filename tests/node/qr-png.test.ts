import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { decodeQrPng, qrPng } from '../../peer/node/qr-png.js';
import { MeshsyncError, type ErrorCode } from '../../shared/errors.js';
import { qrInfo } from '../../shared/qr/index.js';
import { base32 } from '../support/base32-text.js';

/*
 * PNG rendering and reading: round trips for token-sized texts, the image geometry, and the
 * refusals (not a PNG, a blank image, a damaged code) with their codes.
 */

const CONNECTION =
  `meshsync://peer.local:7420?id=${base32(26, 1)}` +
  `&key=${base32(52, 2)}&token=${base32(103, 3)}`;

async function expectError(
  fn: () => unknown,
  code: ErrorCode,
  message?: RegExp,
): Promise<MeshsyncError> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MeshsyncError);
    const e = err as MeshsyncError;
    expect(e.code).toBe(code);
    if (message) expect(e.message).toMatch(message);
    return e;
  }
  throw new Error(`expected ${code}, nothing thrown`);
}

/** Width, height, bit depth and colour type from the IHDR chunk. */
function header(png: Uint8Array) {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20), depth: png[24], type: png[25] };
}

/** An RGBA PNG written by pngjs, `paint` setting each pixel's gray level. */
function rgbaPng(width: number, height: number, paint: (x: number, y: number) => number) {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = paint(x, y);
      png.data.set([v, v, v, 255], (y * width + x) * 4);
    }
  }
  return new Uint8Array(PNG.sync.write(png));
}

/** Decoded gray level of a PNG (any format pngjs reads), pixel by pixel. */
function pixels(png: Uint8Array) {
  const image = PNG.sync.read(Buffer.from(png));
  return { ...image, at: (x: number, y: number) => image.data[(y * image.width + x) * 4] ?? -1 };
}

describe('qrPng and decodeQrPng', () => {
  it.each([20, 100, 250, 330, 419, 420, 1000])('round trip of %i base32 characters', async (n) => {
    const text = base32(n);
    const png = await qrPng(text);
    expect(png).toBeInstanceOf(Uint8Array);
    expect(Buffer.isBuffer(png)).toBe(false);
    expect(decodeQrPng(png)).toBe(text);
  });

  it('round trip of the largest alphanumeric text at M (version 40)', async () => {
    const text = base32(3391);
    const png = await qrPng(text, { scale: 4 });
    expect(header(png).width).toBe((177 + 8) * 4);
    expect(decodeQrPng(png)).toBe(text);
  });

  it.each(['L', 'M', 'Q', 'H'] as const)('round trip of a connection string at %s', async (ec) => {
    const png = await qrPng(CONNECTION, { errorCorrection: ec });
    expect(decodeQrPng(png)).toBe(CONNECTION);
  });

  it('an 8-bit grayscale image of (modules + 2 * margin) * scale pixels', async () => {
    const text = base32(419);
    const { modules } = qrInfo(text);
    expect(header(await qrPng(text))).toEqual({
      width: (modules + 8) * 8,
      height: (modules + 8) * 8,
      depth: 8,
      type: 0,
    });
    const png = await qrPng(text, { scale: 3, margin: 2 });
    expect(header(png)).toMatchObject({ width: (modules + 4) * 3, height: (modules + 4) * 3 });
    // Quiet zone white, top-left finder pattern black from (margin * scale).
    const image = pixels(png);
    expect(image.at(0, 0)).toBe(255);
    expect(image.at(5, 5)).toBe(255);
    expect(image.at(6, 6)).toBe(0);
    expect(image.at(6 + 7 * 3 - 1, 6)).toBe(0);
    expect(image.at(6 + 7 * 3, 6)).toBe(255);
  });

  it('width picks the largest whole scale that fits, at least 1', async () => {
    // Version 1: 21 modules + 8 = 29 per side.
    expect(header(await qrPng('A', { width: 300 })).width).toBe(290);
    expect(header(await qrPng('A', { width: 290 })).width).toBe(290);
    expect(header(await qrPng('A', { width: 289 })).width).toBe(261);
    expect(header(await qrPng('A', { width: 10 })).width).toBe(29);
    expect(decodeQrPng(await qrPng('A', { width: 100 }))).toBe('A');
  });

  it('reads RGBA PNGs and PNG bytes inside a larger buffer', async () => {
    const png = await qrPng('MESHSYNC TOKEN', { margin: 4, scale: 5 });
    const source = pixels(png);
    const rgba = rgbaPng(source.width, source.height, (x, y) => source.at(x, y));
    expect(header(rgba).type).toBe(6);
    expect(decodeQrPng(rgba)).toBe('MESHSYNC TOKEN');
    const padded = new Uint8Array(png.length + 20);
    padded.set(png, 7);
    expect(decodeQrPng(padded.subarray(7, 7 + png.length))).toBe('MESHSYNC TOKEN');
  });

  it('a damaged code within its error correction still reads', async () => {
    const text = base32(250);
    const png = await qrPng(text, { errorCorrection: 'H', scale: 4 });
    const source = pixels(png);
    const mid = source.width / 2;
    // A 6 x 6 module patch turned white in the middle of the symbol.
    const patched = rgbaPng(source.width, source.height, (x, y) =>
      Math.abs(x - mid) < 12 && Math.abs(y - mid) < 12 ? 255 : source.at(x, y),
    );
    expect(decodeQrPng(patched)).toBe(text);
  });
});

describe('refusals', () => {
  it('bytes that are not a PNG are BAD_QR', async () => {
    await expectError(() => decodeQrPng(new TextEncoder().encode('not a png')), 'BAD_QR', /PNG/);
    await expectError(() => decodeQrPng(new Uint8Array(0)), 'BAD_QR', /not a PNG/);
    const jpegish = Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, ...new Uint8Array(60));
    await expectError(() => decodeQrPng(jpegish), 'BAD_QR', /not a PNG/);
  });

  it('a truncated or corrupted PNG is BAD_QR', async () => {
    const png = await qrPng(base32(100));
    await expectError(() => decodeQrPng(png.subarray(0, png.length / 2)), 'BAD_QR', /damaged/);
    const flipped = png.slice();
    flipped[40] = (flipped[40] ?? 0) ^ 0xff; // inside the compressed data: CRC mismatch
    await expectError(() => decodeQrPng(flipped), 'BAD_QR', /damaged/);
  });

  it('a PNG claiming a huge size is refused before decoding', async () => {
    const png = await qrPng('A');
    const huge = png.slice();
    new DataView(huge.buffer).setUint32(16, 100_000);
    new DataView(huge.buffer).setUint32(20, 100_000);
    await expectError(() => decodeQrPng(huge), 'BAD_QR', /100000x100000 pixels is too large/);
  });

  it('a blank image is BAD_QR', async () => {
    await expectError(
      () => decodeQrPng(rgbaPng(300, 200, () => 255)),
      'BAD_QR',
      /no readable QR code/,
    );
    await expectError(() => decodeQrPng(rgbaPng(64, 64, () => 0)), 'BAD_QR', /no readable/);
  });

  it('a code with a large part overwritten is BAD_QR', async () => {
    const text = base32(250);
    const png = await qrPng(text, { errorCorrection: 'L', scale: 4 });
    const source = pixels(png);
    expect(decodeQrPng(png)).toBe(text);
    // A white band over the middle third of the rows: far beyond L's ~7% of codewords.
    const third = source.height / 3;
    const damaged = rgbaPng(source.width, source.height, (x, y) =>
      y > third && y < 2 * third ? 255 : source.at(x, y),
    );
    await expectError(() => decodeQrPng(damaged), 'BAD_QR', /no readable QR code/);
    // Finder patterns intact, the lower-right 40% of each side scrambled module by module.
    const from = source.width * 0.6;
    const scramble = (x: number, y: number): number =>
      ((x >> 2) * 7 + (y >> 2) * 13) % 3 ? 255 : 0;
    const scrambled = rgbaPng(source.width, source.height, (x, y) =>
      x > from && y > from ? scramble(x, y) : source.at(x, y),
    );
    await expectError(() => decodeQrPng(scrambled), 'BAD_QR');
  });

  it('empty and over-long text are INVALID_VALUE', async () => {
    await expectError(() => qrPng(''), 'INVALID_VALUE', /empty text/);
    await expectError(() => qrPng('A'.repeat(3392)), 'INVALID_VALUE', /3392 .*at most 3391/);
    await expectError(
      () => qrPng('a'.repeat(1300), { errorCorrection: 'H' }),
      'INVALID_VALUE',
      /1300 bytes of UTF-8, at most 1273 fit at error correction H/,
    );
  });

  it('bad options are INVALID_OPTION', async () => {
    await expectError(() => qrPng('A', { scale: 0 }), 'INVALID_OPTION', /scale/);
    await expectError(() => qrPng('A', { scale: 2.5 }), 'INVALID_OPTION', /scale/);
    await expectError(() => qrPng('A', { width: 0 }), 'INVALID_OPTION', /width/);
    await expectError(() => qrPng('A', { scale: 4, width: 200 }), 'INVALID_OPTION', /not both/);
    await expectError(() => qrPng('A', { margin: -1 }), 'INVALID_OPTION', /margin/);
    await expectError(
      () => qrPng(base32(3391), { scale: 64 }),
      'INVALID_OPTION',
      /11840-pixel-wide image is too large/,
    );
  });
});
