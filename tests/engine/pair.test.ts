import { describe, expect, it } from 'vitest';
import { link, memoryPeer } from '../support/peers.js';

describe('two peers over the memory pair', () => {
  it('pull brings the other side changes, either side can start', async () => {
    const a = await memoryPeer('devA1');
    const b = await memoryPeer('devB1');
    await a.collection('tasks').put('t1', { title: 'buy milk', done: false });
    await b.collection('tasks').put('t2', { title: 'walk dog', done: true });
    const [sa, sb] = await link(a, b, { a: { autoPull: false }, b: { autoPull: false } });
    const r1 = await sa.pull();
    expect(r1.rows).toBe(1);
    expect(await a.collection('tasks').get('t2')).toEqual({ title: 'walk dog', done: true });
    expect(await b.collection('tasks').get('t1')).toBeNull();
    const r2 = await sb.pull();
    expect(r2.rows).toBe(1);
    expect(await b.collection('tasks').get('t1')).toEqual({ title: 'buy milk', done: false });
  });

  it('push sends our changes unasked and the cursor makes the next push empty', async () => {
    const a = await memoryPeer('devA1');
    const b = await memoryPeer('devB1');
    for (let i = 0; i < 25; i++) await a.collection('n').put(`r${i}`, { i });
    const [sa] = await link(a, b, { a: { autoPull: false, pageRows: 10 }, b: { autoPull: false } });
    const first = await sa.push();
    expect(first.rows).toBe(25);
    expect(first.pages).toBe(3);
    expect((await b.collection('n').list()).length).toBe(25);
    const second = await sa.push();
    expect(second.rows).toBe(0);
  });
});
