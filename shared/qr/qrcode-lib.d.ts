/*
 * Types for the two files of `qrcode` that shared/qr imports directly. `@types/qrcode` only
 * describes the package root, which is a different module in Node (lib/server.js: PNG renderer,
 * pngjs, `fs`) and in bundlers (lib/browser.js, by the `browser` field); these two files are the
 * same pure code everywhere.
 */

declare module 'qrcode/lib/core/qrcode.js' {
  import type { QRCode, QRCodeErrorCorrectionLevel } from 'qrcode';

  /** Encodes `text` in the smallest version (throws a plain Error when nothing fits). */
  export function create(
    text: string,
    options?: { errorCorrectionLevel?: QRCodeErrorCorrectionLevel },
  ): QRCode;
}

declare module 'qrcode/lib/renderer/svg-tag.js' {
  /** An `<svg>` element (no XML prolog) drawing the dark modules as one stroked path. */
  export function render(
    qrData: { modules: { size: number; data: Uint8Array } },
    options?: { margin?: number; width?: number },
  ): string;
}
