import q from 'qrcode/lib/core/qrcode.js';
import V from 'qrcode/lib/core/version.js';
import M from 'qrcode/lib/core/mode.js';
import E from 'qrcode/lib/core/error-correction-level.js';
const B32='ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
let seed=1; const rnd=()=>{seed=(seed*1103515245+12345)&0x7fffffff; return seed;};
const b32=(n)=>Array.from({length:n},()=>B32[rnd()%32]).join('');
for (const n of [20,100,250,330,334,335,419,420,488,489,3391]) {
  for (const ec of ['M']) {
    const s=b32(n); const r=q.create(s,{errorCorrectionLevel:ec});
    console.log(n, ec, 'v'+r.version, r.modules.size, r.segments.map(x=>x.mode.id+':'+x.getLength()).join(','));
  }
}
const s7 = '2'.repeat(100)+'A'.repeat(50); const r=q.create(s7); console.log('digits', r.version, r.segments.map(x=>x.mode.id+':'+x.getLength()).join(','));
const allA = 'A'.repeat(419); console.log('A419', q.create(allA).version, 'A420', q.create('A'.repeat(420)).version);
for (const ec of ['L','M','Q','H']) console.log(ec, [M.NUMERIC,M.ALPHANUMERIC,M.BYTE].map(m=>V.getCapacity(40,E[ec],m)), 'v12 alnum', V.getCapacity(12,E[ec],M.ALPHANUMERIC));
const url='meshsync://192.168.1.20:7420?id=ABCDEFGHIJKLMNOP&key=QRSTUVWXYZ234567ABCDEFGHIJKLMNOPQRSTUVWXYZ234567ABCD&token='+b32(100);
const ru=q.create(url); console.log('url', url.length, ru.version, ru.segments.map(x=>x.mode.id+':'+x.getLength()).join(','));
try { q.create('A'.repeat(3392)) } catch(e){ console.log(e.message) }
try { q.create('x', {errorCorrectionLevel:'Z'}) } catch(e){ console.log('Z', e.message) }
console.log(q.create('x', {errorCorrectionLevel:'Z'}).errorCorrectionLevel);
console.log(Object.keys(r.modules), r.modules.data.constructor.name);
