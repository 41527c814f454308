import { qrPng, decodeQrPng } from '../peer/node/qr-png.js';
import { qrInfo, qrSvg, qrTerminal } from '../shared/qr/index.js';
const png = await qrPng('HELLO WORLD 234567');
console.log(png.length, png.constructor.name, decodeQrPng(png));
console.log(qrInfo('meshsync://host:7420?id=A&key=B&token=CDEF'));
console.log(qrSvg('HELLO').slice(0, 300));
console.log(qrTerminal('HELLO'));
console.log(qrTerminal('HELLO', { invert: true }));
console.log(qrTerminal('HELLO', { style: 'ansi', margin: 1 }));
