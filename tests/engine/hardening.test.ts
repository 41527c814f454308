import { describe, expect, it } from 'vitest';
import { joinRecord } from '../../peer/merge.js';
import { createMemoryTransportPair } from '../../peer/transport/memory-transport.js';
import { encodeStamp } from '../../shared/hlc.js';
import { asDeviceId, type CollectionName, type RecordId } from '../../shared/ids.js';
import type { JsonValue } from '../../shared/json.js';
import { decodeFrame, encodeFrame, encodeMessage } from '../../shared/protocol/codec.js';
import type { Message } from '../../shared/protocol/messages.js';
import type { RecordState } from '../../shared/record.js';
import { link, memoryPeer } from '../support/peers.js';

const manual = { autoPull: false, requestTimeoutMs: 1000 };

/** A raw far end: answers the peer's hello, hands every decoded frame to `onMessage`. */
async function rawRemote(
  target: Awaited<ReturnType<typeof memoryPeer>>,
  onMessage: (m: Message, send: (m: Message | Uint8Array) => void) => void,
  hello: Partial<Record<string, unknown>> = {},
  options = {},
) {
  const [near, far] = createMemoryTransportPair();
  const send = (m: Message | Uint8Array): void => {
    setTimeout(
      () => void far.send(m instanceof Uint8Array ? m : encodeMessage(m)).catch(() => undefined),
      0,
    );
  };
  far.on('message', (f) => onMessage(decodeFrame(f), send));
  const session = target.connect(near, { autoPull: false, ...options });
  await far.send(
    encodeMessage({
      type: 'hello',
      min: 1,
      max: 1,
      device: 'raw1',
      epoch: 'rawepoch01',
      caps: [],
      want: null,
      maxFrame: 8388608,
      ...hello,
    } as unknown as Message),
  );
  await far.send(encodeMessage({ type: 'welcome', cursor: 0 }));
  await session.whenReady();
  return { session, far };
}

// Found by fuzzing and review; each was a bug, kept as a regression test.
describe('hardening', () => {
  it('A1: a record with more than 1024 field entries (removed-field markers from puts) still syncs', async () => {
    const a = await memoryPeer('devA1');
    const b = await memoryPeer('devB1');
    for (let k = 0; k <= 1024; k++) await a.collection('tasks').put('t1', { [`k${k}`]: k });
    const [, sb] = await link(a, b, { a: manual, b: manual });
    await sb.pull();
    expect(await b.collection('tasks').get('t1')).toEqual({ k1024: 1024 });
  });

  it('A2: two concurrent puts of 600 fields each merge into a record no third peer can receive', async () => {
    const a = await memoryPeer('devA1');
    const b = await memoryPeer('devB1');
    const c = await memoryPeer('devC1');
    const fields = (p: string) =>
      Object.fromEntries(Array.from({ length: 600 }, (_, k) => [`${p}${k}`, k]));
    await a.collection('tasks').put('t1', fields('x'));
    await b.collection('tasks').put('t1', fields('y'));
    const [, sb] = await link(a, b, { a: manual, b: manual });
    await sb.pull();
    const [, sc] = await link(b, c, { a: manual, b: manual });
    await sc.pull();
    expect(await c.collection('tasks').get('t1')).not.toBeNull();
  });

  it('B: a record cannot grow past the record limit by patches (each under it)', async () => {
    const a = await memoryPeer('devA1');
    const b = await memoryPeer('devB1');
    const big = 'x'.repeat(1_000_000);
    await a.collection('docs').put('d1', { f0: big });
    await expect(a.collection('docs').patch('d1', { f1: big })).rejects.toMatchObject({
      code: 'VALUE_TOO_LARGE',
    });
    const [, sb] = await link(a, b, { a: manual, b: manual });
    await sb.pull();
    expect(await b.collection('docs').get('d1')).toEqual({ f0: big });
  });

  it('C: a device that comes back with an empty store and the same id gets its records back', async () => {
    const a = await memoryPeer('devA1');
    const b = await memoryPeer('devB1');
    await b.collection('tasks').put('t1', { title: 'from b' });
    const [sa] = await link(a, b, { a: manual, b: manual });
    await sa.pull(); // A now holds t1 with origin devB1
    sa.close();
    await b.stop();
    const fresh = await memoryPeer('devB1'); // new store, new epoch, same device id
    const [, sb] = await link(a, fresh, { a: manual, b: manual });
    await sb.pull();
    expect(await fresh.collection('tasks').get('t1')).toEqual({ title: 'from b' });
  });

  it('D: a pull stops when the remote answers more: true without progress', async () => {
    const t = await memoryPeer('target1');
    let answers = 0;
    const { session } = await rawRemote(t, (m, send) => {
      if (m.type === 'pull' && ++answers < 200)
        send({
          type: 'changes',
          req: m.req,
          push: false,
          from: m.after,
          to: m.after,
          head: m.after + 1,
          more: true,
          rows: [],
        });
    });
    await session.pull().catch(() => undefined);
    expect(answers).toBeLessThan(5);
  });

  it('E: a pull whose answer cannot be decoded fails at once, not after the request timeout', async () => {
    const t = await memoryPeer('target1');
    const { session } = await rawRemote(
      t,
      (m, send) => {
        if (m.type === 'pull')
          send(
            encodeFrame(
              'changes',
              `{"req":${m.req},"push":false,"from":0,"to":1,"head":1,"more":false,"rows":[{"c":"t","i":"x","a":null,"d":null,"f":{"x":["no a"]}}]}`,
            ),
          );
      },
      {},
      { requestTimeoutMs: 5000 },
    );
    const started = Date.now();
    await session.pull().catch(() => undefined);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('F: invalid capabilities or want are refused locally (INVALID_OPTION), not by the remote', async () => {
    const t = await memoryPeer('target1');
    const [near] = createMemoryTransportPair();
    expect(() => t.connect(near, { capabilities: ['Not Valid'], want: ['bad name!'] })).toThrow(
      /INVALID_OPTION/,
    );
  });

  it('G: a pull the server cannot serve (store failure) is answered with an error', async () => {
    const t = await memoryPeer('target1');
    const { far } = await rawRemote(t, () => undefined);
    const got: Message[] = [];
    far.on('message', (f) => got.push(decodeFrame(f)));
    await t.replica.store.close(); // the store now throws CLOSED
    await far.send(encodeMessage({ type: 'pull', req: 7, after: 0, rows: 10, bytes: 1000 }));
    await new Promise((r) => setTimeout(r, 50));
    expect(got.some((m) => (m.type === 'error' || m.type === 'changes') && m.req === 7)).toBe(true);
  });

  it('H: a record larger than the maxFrame the puller announced is refused, never sent', async () => {
    const t = await memoryPeer('target1');
    await t.collection('docs').put('d1', { text: 'é'.repeat(100_000) });
    const got: Message[] = [];
    let largest = 0;
    const { far } = await rawRemote(t, () => undefined, { maxFrame: 65536 });
    far.on('message', (f) => {
      largest = Math.max(largest, f.length);
      got.push(decodeFrame(f));
    });
    await far.send(encodeMessage({ type: 'pull', req: 1, after: 0, rows: 10, bytes: 1_000_000 }));
    await new Promise((r) => setTimeout(r, 50));
    expect(got).toContainEqual(
      expect.objectContaining({ type: 'error', req: 1, code: 'FRAME_TOO_LARGE' }),
    );
    expect(largest).toBeLessThanOrEqual(65536);
  });

  it('I: join is associative even for equal stamps whose values differ only in key order', () => {
    const S = encodeStamp(1_700_000_000_000, 0, asDeviceId('devA1'));
    const st = (v: JsonValue): RecordState => ({
      c: 'c' as CollectionName,
      i: 'i' as RecordId,
      a: S,
      d: null,
      f: { x: { s: S, v } },
    });
    const j = (l: RecordState, r: RecordState) => joinRecord(l, r).state;
    const v1 = st({ a: 1, b: 2 }),
      v1b = st({ b: 2, a: 1 }),
      v2 = st({ a: 2 });
    expect(j(j(v1, v1b), v2).f.x!.v).toEqual(j(v1, j(v1b, v2)).f.x!.v); // { a: 2 } vs { a: 1, b: 2 }
  });

  it('J: a field whose p is not older than its s (e.g. far in the future) is refused', async () => {
    const t = await memoryPeer('target1');
    const now = encodeStamp(Date.now(), 0, asDeviceId('raw1'));
    const far = encodeStamp(Date.now() + 10 * 365 * 86_400_000, 0, asDeviceId('raw1'));
    const acks: Message[] = [];
    const { far: end } = await rawRemote(t, (m) => {
      if (m.type === 'ack' || m.type === 'error') acks.push(m);
    });
    await end.send(
      encodeFrame(
        'changes',
        `{"req":1,"push":true,"from":0,"to":1,"head":1,"more":false,"rows":[{"c":"t","i":"x","a":"${now}","d":null,"f":{"x":[1,"${now}","${far}"]}}]}`,
      ),
    );
    await new Promise((r) => setTimeout(r, 50));
    expect(acks[0]).toMatchObject({ type: 'error', code: 'BAD_MESSAGE' });
    expect(await t.replica.head()).toBe(0);
  });

  it('K: a page whose head misleads the early ask (duplicate "to") costs one ask, nothing else', async () => {
    const t = await memoryPeer('target1');
    const now = encodeStamp(Date.now(), 0, asDeviceId('raw1'));
    const row = (i: string): string => `{"c":"t","i":"${i}","a":"${now}","d":null,"f":{"x":[1]}}`;
    const pulls: number[] = [];
    const { session } = await rawRemote(
      t,
      (m, send) => {
        if (m.type !== 'pull') return;
        pulls.push(m.after);
        // The head says to: 1, the last "to" (what counts) says 2; the hint asks from 1.
        const body =
          m.after === 0
            ? `{"req":${m.req},"push":false,"from":0,"to":1,"head":3,"more":true,"rows":[${row('a')},${row('b')}],"to":2}`
            : `{"req":${m.req},"push":false,"from":${m.after},"to":3,"head":3,"more":false,"rows":[${row('c')}]}`;
        send(encodeFrame('changes', body));
      },
      {},
      { requestTimeoutMs: 1000 },
    );
    const result = await session.pull();
    expect(result).toMatchObject({ rows: 3, cursor: 3 });
    expect(pulls).toEqual([0, 1, 2]); // the ask from 1 was dropped, 2 asked for instead
    expect((await t.collection('t').list()).map((r) => r.id)).toEqual(['a', 'b', 'c']);
    expect(session.status().lastError).toBeNull();
  });
});
