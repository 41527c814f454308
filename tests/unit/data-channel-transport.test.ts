import { afterEach, describe, expect, it } from 'vitest';
import { chunkMessage } from '../../peer/rtc/channel-messages.js';
import { DataChannelTransport } from '../../peer/rtc/data-channel-transport.js';
import type {
  DataChannelTuning,
  RtcConnection,
  RtcConnectionState,
} from '../../peer/rtc/rtc-port.js';
import type { TransportEvents } from '../../peer/transport/transport-port.js';
import { rejectionCode } from '../support/codes.js';
import { fakeChannelPair, type FakeChannel } from '../support/fake-channel.js';
import { eventually } from '../support/peers.js';

/*
 * The data-channel transport's own rules (chunking, backpressure, compression, goodbye, hostile
 * input) over an in-memory channel stand-in; the real stacks run the conformance suite in
 * tests/node/rtc-conformance.test.ts.
 */
const TUNING: DataChannelTuning = {
  messageBytes: 4096,
  highWaterBytes: 16 * 1024,
  lowWaterBytes: 4096,
  compress: 'never',
};
const binding = { local: new Uint8Array(32).fill(1), remote: new Uint8Array(32).fill(2) };
const open: DataChannelTransport[] = [];

afterEach(() => {
  for (const t of open.splice(0)) t.close('test over');
});

function pair(
  options: { tuning?: Partial<DataChannelTuning>; maxMessageBytes?: number; delayMs?: number } = {},
): { a: DataChannelTransport; b: DataChannelTransport; ca: FakeChannel; cb: FakeChannel } {
  const [ca, cb] = fakeChannelPair(options.delayMs ?? 0);
  const make = (channel: FakeChannel, mirrored: boolean): DataChannelTransport =>
    new DataChannelTransport({
      channel,
      facts: {
        binding: mirrored ? { local: binding.remote, remote: binding.local } : binding,
        maxMessageBytes: options.maxMessageBytes ?? 65536,
      },
      tuning: { ...TUNING, ...options.tuning },
    });
  const a = make(ca, false);
  const b = make(cb, true);
  open.push(a, b);
  return { a, b, ca, cb };
}

function frames(t: DataChannelTransport): Uint8Array[] {
  const got: Uint8Array[] = [];
  t.on('message', (f) => got.push(f));
  return got;
}

function closed(t: DataChannelTransport): Promise<TransportEvents['close']> {
  return new Promise((resolve) => t.on('close', resolve));
}

const pattern = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, k) => (k * 7) & 0xff);

describe('DataChannelTransport', () => {
  it('chunks frames below the smaller of its tuning and the negotiated max-message-size', async () => {
    const { a, b, ca } = pair({ maxMessageBytes: 2048 });
    const got = frames(b);
    await a.send(pattern(10_000));
    await eventually(() => got.length === 1);
    expect(got[0]).toEqual(pattern(10_000));
    expect(ca.sent.length).toBe(5);
    expect(Math.max(...ca.sent.map((m) => m.length))).toBeLessThanOrEqual(2048);
    expect(a.binding).toEqual(binding);
    expect(b.binding.local).toEqual(binding.remote);
  });

  it('sends wait while the buffer is above the high-water mark', async () => {
    const { a, b, ca } = pair({ delayMs: 5 });
    const got = frames(b);
    let peak = 0;
    const watch = setInterval(() => (peak = Math.max(peak, ca.bufferedAmount)), 1);
    const sending = a.send(pattern(200_000));
    let done = false;
    void sending.then(() => (done = true));
    await new Promise((r) => setTimeout(r, 1));
    expect(done).toBe(false);
    await sending;
    clearInterval(watch);
    // Never more than the high-water mark plus one message queued.
    expect(peak).toBeLessThanOrEqual(TUNING.highWaterBytes + TUNING.messageBytes);
    await eventually(() => got.length === 1);
    expect(got[0]).toEqual(pattern(200_000));
  });

  it("deflates with compress 'always', and with 'auto' only once the channel made a send wait", async () => {
    const json = new TextEncoder().encode(
      JSON.stringify(Array.from({ length: 3000 }, (_, k) => ({ k }))),
    );
    const always = pair({ tuning: { compress: 'always' } });
    const got = frames(always.b);
    await always.a.send(json);
    await eventually(() => got.length === 1);
    expect(got[0]).toEqual(json);
    expect(always.a.stats.deflatedFramesSent).toBe(1);
    expect(always.a.stats.wireBytesSent).toBeLessThan(json.length / 2);

    const auto = pair({ tuning: { compress: 'auto' }, delayMs: 5 });
    const gotAuto = frames(auto.b);
    await auto.a.send(json.subarray(0, 3000)); // an idle channel: sent as is
    expect(auto.a.stats.deflatedFramesSent).toBe(0);
    await auto.a.send(pattern(100_000)); // fills the buffer: this send waits
    await auto.a.send(json); // the channel is the bottleneck now: deflated
    expect(auto.a.stats.deflatedFramesSent).toBe(1);
    await eventually(() => gotAuto.length === 3);
    expect(gotAuto[2]).toEqual(json);
  });

  it("hints a frame's start as its first piece arrives ('frameStart'), inflated if need be", async () => {
    const { a, b } = pair({ maxMessageBytes: 2048 });
    const got = frames(b);
    const starts: Uint8Array[] = [];
    b.on('frameStart', (prefix) => starts.push(prefix.slice()));
    await a.send(pattern(1000)); // one piece: no hint
    await a.send(pattern(10_000));
    await eventually(() => got.length === 2);
    expect(starts).toHaveLength(1);
    expect(starts[0]!.length).toBeGreaterThan(1000);
    expect(starts[0]).toEqual(pattern(10_000).subarray(0, starts[0]!.length));

    // Compressed: the frame's start, inflated from the first piece alone.
    const deflating = pair({ tuning: { compress: 'always' }, maxMessageBytes: 2048 });
    const gotDeflated = frames(deflating.b);
    const hints: Uint8Array[] = [];
    deflating.b.on('frameStart', (prefix) => hints.push(prefix.slice()));
    const json = new TextEncoder().encode(
      JSON.stringify(Array.from({ length: 9000 }, (_, k) => k)),
    );
    await deflating.a.send(json);
    await eventually(() => gotDeflated.length === 1);
    expect(deflating.a.stats.wireBytesSent).toBeGreaterThan(2048); // more than one piece
    expect(hints).toHaveLength(1);
    expect(hints[0]).toEqual(json.subarray(0, 256));
  });

  it('close sends a goodbye after every queued frame; the other side closes with the reason', async () => {
    const { a, b, ca } = pair({ delayMs: 2 });
    const got = frames(b);
    const bClosed = closed(b);
    const aClosed = closed(a);
    void a.send(pattern(50_000));
    void a.send(pattern(60_000));
    a.close('all done');
    expect((await aClosed).reason).toBe('all done');
    const event = await bClosed;
    expect(event.reason).toBe('closed by the other side: all done');
    expect(event.error).toBeUndefined();
    expect(got.map((f) => f.length)).toEqual([50_000, 60_000]);
    await eventually(() => ca.readyState === 'closed');
    expect(await rejectionCode(a.send(Uint8Array.of(1)))).toBe('CLOSED');
    expect(await rejectionCode(b.send(Uint8Array.of(1)))).toBe('CLOSED');
  });

  it('hostile input closes the transport with BAD_FRAME and tells the other side', async () => {
    const cases: Array<[string, (c: FakeChannel) => void]> = [
      ['text', (c) => c.receive('hello')],
      ['unknown op', (c) => c.receive(Uint8Array.of(0x09, 1).buffer)],
      [
        'chunks disagreeing on compression',
        (c) => {
          c.receive(chunkMessage(Uint8Array.of(1, 2), false, false).buffer);
          c.receive(chunkMessage(Uint8Array.of(3), true, true).buffer);
        },
      ],
      [
        'a deflated frame that is not',
        (c) => c.receive(chunkMessage(pattern(40), true, true).buffer),
      ],
    ];
    for (const [name, attack] of cases) {
      const { a, b, cb } = pair();
      const bClosed = closed(b);
      const aClosed = closed(a);
      attack(cb);
      const event = await bClosed;
      expect(event.error?.code, name).toBe('BAD_FRAME');
      expect((await aClosed).reason, name).toMatch(/^closed by the other side: BAD_FRAME/);
    }
  });

  it('a channel that closes without a goodbye, or a failed connection, closes it with CLOSED', async () => {
    const { b, ca } = pair();
    const bClosed = closed(b);
    ca.close();
    expect((await bClosed).error?.code).toBe('CLOSED');

    const [channel] = fakeChannelPair();
    const states = new Set<(state: RtcConnectionState) => void>();
    let connectionClosed = 0;
    const connection = {
      onStateChange: (listener: (state: RtcConnectionState) => void) => {
        states.add(listener);
        return () => states.delete(listener);
      },
      close: () => connectionClosed++,
    } as unknown as RtcConnection;
    const t = new DataChannelTransport({
      channel,
      facts: { binding, maxMessageBytes: 65536 },
      tuning: TUNING,
      connection,
      disconnectGraceMs: 30,
    });
    open.push(t);
    const tClosed = closed(t);
    for (const s of states) s('disconnected');
    for (const s of states) s('connected'); // back within the grace period: still open
    await new Promise((r) => setTimeout(r, 60));
    expect(t.stats.framesSent).toBe(0);
    await t.send(Uint8Array.of(1));
    for (const s of states) s('disconnected');
    const event = await tClosed;
    expect(event.error?.code).toBe('CLOSED');
    expect(event.reason).toMatch(/stayed disconnected/);
    await eventually(() => connectionClosed === 1);
  });
});
