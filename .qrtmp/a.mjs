import { create } from 'qrcode';
import * as u from 'qrcode/lib/renderer/utf8.js';
console.log(create, u);
