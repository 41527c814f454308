import { PNG } from 'pngjs';
import { MeshsyncError } from '../../shared/errors.js';
import { decodeQrRgba } from '../../shared/qr/qr-decode.js';
import { qrIntegerOption, qrMatrix, type QrOptions } from '../../shared/qr/qr-text.js';

/** Options of `qrPng`: `margin` defaults to 4 modules. */
export interface QrPngOptions extends QrOptions {
  /** Pixels per module, 1 to 64. Default 8. */
  scale?: number;
  /**
   * Target image width in pixels (1 to 4096), instead of `scale`: the largest whole scale whose
   * image is at most this wide, but never under 1 pixel per module.
   */
  width?: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Widest image written, and largest decoded (a PNG header can claim any size). */
const MAX_SIDE = 4096;

/**
 * The QR code for `text` as an 8-bit grayscale PNG with a quiet zone, `scale` pixels per module.
 * Throws like `qrMatrix` (`INVALID_VALUE` for empty or over-long text) and `INVALID_OPTION`
 * (also for an image over 4096 pixels wide).
 */
export async function qrPng(text: string, options: QrPngOptions = {}): Promise<Uint8Array> {
  const margin = qrIntegerOption('margin', options.margin, 0, 64, 4);
  if (options.scale !== undefined && options.width !== undefined) {
    throw new MeshsyncError('INVALID_OPTION', 'give either scale or width, not both');
  }
  const width = qrIntegerOption('width', options.width, 1, MAX_SIDE, 0);
  const fixedScale = qrIntegerOption('scale', options.scale, 1, 64, 8);
  const qr = qrMatrix(text, options);
  const side = qr.modules + 2 * margin;
  const scale = width > 0 ? Math.max(1, Math.floor(width / side)) : fixedScale;
  const pixels = side * scale;
  if (pixels > MAX_SIDE) {
    throw new MeshsyncError(
      'INVALID_OPTION',
      `a ${pixels}-pixel-wide image is too large (at most ${MAX_SIDE}): lower scale or margin`,
    );
  }
  const gray = Buffer.alloc(pixels * pixels, 0xff);
  for (let r = 0; r < qr.modules; r++) {
    for (let c = 0; c < qr.modules; c++) {
      if (qr.data[r * qr.modules + c] !== 1) continue;
      for (let y = (r + margin) * scale; y < (r + margin + 1) * scale; y++) {
        const start = y * pixels + (c + margin) * scale;
        gray.fill(0, start, start + scale);
      }
    }
  }
  // PNG's constructor would allocate an unused RGBA buffer: give the packer plain metadata.
  const image = Object.assign(new PNG(), { width: pixels, height: pixels, data: gray });
  // Copy out of the Buffer (maybe a slice of Node's shared pool) into a plain Uint8Array.
  return new Uint8Array(PNG.sync.write(image, { colorType: 0, inputColorType: 0 }));
}

/**
 * Reads the QR code in a PNG image. Throws `BAD_QR` when the bytes are not a PNG, the image is
 * too large (over 4096 x 4096 pixels), or it holds no readable QR code.
 */
export function decodeQrPng(png: Uint8Array): string {
  if (png.length < 24 || PNG_SIGNATURE.some((byte, i) => png[i] !== byte)) {
    throw new MeshsyncError('BAD_QR', 'not a PNG image (bad signature)');
  }
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const width = view.getUint32(16); // IHDR, the first chunk
  const height = view.getUint32(20);
  if (width * height > MAX_SIDE * MAX_SIDE) {
    throw new MeshsyncError('BAD_QR', `PNG of ${width}x${height} pixels is too large to scan`);
  }
  let image;
  try {
    image = PNG.sync.read(Buffer.from(png.buffer, png.byteOffset, png.byteLength));
  } catch (err) {
    throw new MeshsyncError('BAD_QR', 'damaged PNG image', { cause: err });
  }
  const { data } = image;
  return decodeQrRgba(
    new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength),
    image.width,
    image.height,
  );
}
