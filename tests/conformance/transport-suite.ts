import { expect, it } from 'vitest';
import type { Transport } from '../../peer/transport/transport-port.js';
import { eventually, link, memoryPeer } from '../support/peers.js';

/** A fresh connected pair of the transport under test. */
export type PairFactory = () => [Transport, Transport] | Promise<[Transport, Transport]>;

function collect(t: Transport): Uint8Array[] {
  const got: Uint8Array[] = [];
  t.on('message', (f) => got.push(f));
  return got;
}

const until = (check: () => boolean, ms = 10_000): Promise<void> => eventually(check, ms);

/**
 * The transport port's contract, run against every implementation: ordered, intact,
 * frame-preserving delivery both ways, large frames, clean close on both sides, and a real sync
 * session on top.
 */
export function runTransportConformance(name: string, makePair: PairFactory): void {
  it(`${name}: frames arrive intact and in order, both ways`, async () => {
    const [a, b] = await makePair();
    const atB = collect(b);
    const atA = collect(a);
    for (let k = 0; k < 300; k++) await a.send(Uint8Array.of(k & 0xff, k >> 8, 7));
    await b.send(new Uint8Array(0));
    await b.send(Uint8Array.of(9));
    await until(() => atB.length === 300 && atA.length === 2);
    expect(atB.every((f, k) => f.length === 3 && f[0] === (k & 0xff) && f[1] === k >> 8)).toBe(
      true,
    );
    expect(atA.map((f) => [...f])).toEqual([[], [9]]);
    a.close();
  });

  it(`${name}: a 4 MiB frame arrives whole, and the receiver owns its copy`, async () => {
    const [a, b] = await makePair();
    const atB = collect(b);
    const big = new Uint8Array(4 * 1024 * 1024).map((_, k) => (k * 31) & 0xff);
    await a.send(big);
    big[0] = 255 - big[0]!; // the sender reusing its buffer must not change what was sent
    await until(() => atB.length === 1);
    expect(atB[0]!.length).toBe(big.length);
    expect(atB[0]![0]).toBe(0);
    expect(atB[0]![12345]).toBe((12345 * 31) & 0xff);
    a.close();
  });

  it(`${name}: close reaches both sides once; later sends fail with CLOSED`, async () => {
    const [a, b] = await makePair();
    let closesA = 0;
    let closesB = 0;
    a.on('close', () => closesA++);
    b.on('close', () => closesB++);
    a.close('done');
    a.close('again'); // idempotent
    await until(() => closesA === 1 && closesB === 1);
    await expect(a.send(Uint8Array.of(1))).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(b.send(Uint8Array.of(1))).rejects.toMatchObject({ code: 'CLOSED' });
    await new Promise((r) => setTimeout(r, 20));
    expect([closesA, closesB]).toEqual([1, 1]);
  });

  it(`${name}: two peers sync over it, each side pulling and pushing`, async () => {
    const a = await memoryPeer(`tcA${name.length}`);
    const b = await memoryPeer(`tcB${name.length}`);
    for (let k = 0; k < 300; k++) await a.collection('t').put(`a${k}`, { k, text: 'é'.repeat(k) });
    for (let k = 0; k < 200; k++) await b.collection('t').put(`b${k}`, { k });
    const [sa, sb] = await link(
      a,
      b,
      { a: { autoPull: false, pageRows: 50 }, b: { autoPull: false, pageRows: 70 } },
      makePair,
    );
    await Promise.all([sa.push(), sb.push(), sa.pull(), sb.pull()]);
    expect(await a.collection('t').list({ limit: 1000 })).toEqual(
      await b.collection('t').list({ limit: 1000 }),
    );
    expect((await a.collection('t').list({ limit: 1000 })).length).toBe(500);
    await a.stop();
    await b.stop();
  });
}

/** The contract's rule on late listeners, for transports that can be driven before attaching. */
export function runLateListenerCheck(name: string, makePair: PairFactory): void {
  it(`${name}: frames sent before the receiver listens are held, not lost`, async () => {
    const [a, b] = await makePair();
    await a.send(Uint8Array.of(1));
    await a.send(Uint8Array.of(2));
    await new Promise((r) => setTimeout(r, 10));
    const atB = collect(b);
    await a.send(Uint8Array.of(3));
    await until(() => atB.length === 3);
    expect(atB.map((f) => f[0])).toEqual([1, 2, 3]);
    a.close();
  });
}
