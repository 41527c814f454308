/** QR codes for pairing tokens: encode to SVG or terminal text, decode from RGBA pixels. */
export {
  qrInfo,
  qrMatrix,
  qrSvg,
  qrTerminal,
  QR_MAX_LENGTH,
  type QrErrorCorrection,
  type QrInfo,
  type QrMatrix,
  type QrMode,
  type QrOptions,
  type QrTerminalOptions,
} from './qr-text.js';
export { decodeQrRgba } from './qr-decode.js';
