import { qrInfo } from '../shared/qr/index.js';
const cases: [number, 'L'|'M'|'Q'|'H'][] = [[20,'M'],[21,'M'],[100,'M'],[122,'M'],[123,'M'],[250,'M'],[330,'M'],[419,'M'],[420,'M'],[483,'M'],[484,'M'],[3391,'M'],[535,'L'],[536,'L'],[296,'Q'],[297,'Q'],[227,'H'],[228,'H']];
for (const [n, ec] of cases) console.log(n, ec, qrInfo('Q'.repeat(n), { errorCorrection: ec }).version);
let t = Date.now();
for (const ec of ['L','M','Q','H'] as const) qrInfo('7'.repeat(ec==='L'?7089:ec==='M'?5596:ec==='Q'?3993:3057), {errorCorrection: ec});
console.log('ms', Date.now() - t);
t = Date.now(); try { qrInfo('a'.repeat(1e6)) } catch (e) { console.log((e as Error).message, Date.now() - t) }
t = Date.now(); try { qrInfo('a'.repeat(5000)) } catch (e) { console.log((e as Error).message, Date.now() - t) }
try { qrInfo('é'.repeat(1166)) } catch (e) { console.log((e as Error).message) }
console.log(qrInfo('é'.repeat(1165)));
