import q from 'qrcode/lib/core/qrcode.js';
import svg from 'qrcode/lib/renderer/svg-tag.js';
import utf8 from 'qrcode/lib/renderer/utf8.js';
import term from 'qrcode/lib/renderer/terminal/terminal.js';
console.log(q, svg, utf8, term);
