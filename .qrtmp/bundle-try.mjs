import { qrInfo, decodeQrRgba, qrSvg } from './qr.out.js';
console.log(qrInfo('ABC'), qrSvg('A').length);
try { decodeQrRgba(new Uint8ClampedArray(400), 10, 10) } catch (e) { console.log(e.code, e.message) }
