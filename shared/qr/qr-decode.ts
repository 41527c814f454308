import jsQR from 'jsqr';
import { MeshsyncError } from '../errors.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * `data` with translucent pixels composited over white (a copy; `data` itself when all are
 * opaque): jsQR reads RGB only, so a transparent background of black pixels reads as dark.
 */
function overWhite(data: Uint8ClampedArray): Uint8ClampedArray {
  let out: Uint8ClampedArray | undefined;
  for (let i = 3; i < data.length; i += 4) {
    const alpha = data[i] ?? 255;
    if (alpha === 255) continue;
    out ??= data.slice();
    for (let c = i - 3; c < i; c++) out[c] = ((data[c] ?? 0) * alpha + 255 * (255 - alpha)) / 255;
    out[i] = 255;
  }
  return out ?? data;
}

/**
 * Reads the QR code in an RGBA image (a canvas `ImageData`'s `data`, `width`, `height`): dark on
 * light or light on dark, translucent pixels taken as over white. Throws `BAD_QR` when no code is
 * found or it does not decode to text, `INVALID_VALUE` when `data` is not `width * height * 4`
 * bytes.
 */
export function decodeQrRgba(data: Uint8ClampedArray, width: number, height: number): string {
  if (
    !Number.isInteger(width) ||
    !Number.isInteger(height) ||
    width < 1 ||
    height < 1 ||
    data.length !== width * height * 4
  ) {
    throw new MeshsyncError(
      'INVALID_VALUE',
      `RGBA data of ${data.length} bytes does not match a ${width}x${height} image`,
    );
  }
  let found;
  try {
    // Always pass the option: jsQR merges options into its module-level defaults, so one call
    // with another value would silently change every later call without it.
    found = jsQR.default(overWhite(data), width, height, { inversionAttempts: 'attemptBoth' });
  } catch (err) {
    throw new MeshsyncError('BAD_QR', 'the image could not be scanned for a QR code', {
      cause: err,
    });
  }
  if (found === null) throw new MeshsyncError('BAD_QR', 'no readable QR code in the image');
  for (const chunk of found.chunks) {
    // jsQR turns byte segments that are not UTF-8 into '' without a word (kanji has bytes too).
    if (!('bytes' in chunk) || (chunk.type as string) !== 'byte') continue;
    try {
      strictUtf8.decode(Uint8Array.from(chunk.bytes));
    } catch (err) {
      throw new MeshsyncError('BAD_QR', 'the QR code holds bytes that are not UTF-8 text', {
        cause: err,
      });
    }
  }
  if (found.data === '') throw new MeshsyncError('BAD_QR', 'the QR code holds no text');
  return found.data;
}
