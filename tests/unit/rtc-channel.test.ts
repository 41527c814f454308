import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  chunkMessage,
  closeMessage,
  MAX_CLOSE_REASON_BYTES,
  readChannelMessage,
} from '../../peer/rtc/channel-messages.js';
import { zlibCodec } from '../../peer/node/zlib-codec.js';
import { fflateCodec, inflateStart, type FrameCodec } from '../../peer/rtc/deflate.js';
import { codeOf } from '../support/codes.js';

const text = (n: number): Uint8Array =>
  new TextEncoder().encode(
    Array.from({ length: n }, (_, k) => `{"id":"r${k}","v":${k % 97}}`).join(','),
  );

describe('data-channel messages', () => {
  it('chunks and goodbyes read back as written', () => {
    const data = Uint8Array.of(1, 2, 3);
    expect(readChannelMessage(chunkMessage(data, false, false))).toEqual({
      op: 'chunk',
      last: false,
      deflated: false,
      data,
    });
    expect(readChannelMessage(chunkMessage(data, true, true))).toMatchObject({
      last: true,
      deflated: true,
    });
    expect(readChannelMessage(chunkMessage(new Uint8Array(0), true, false))).toMatchObject({
      op: 'chunk',
      data: new Uint8Array(0),
    });
    expect(readChannelMessage(closeMessage('done'))).toEqual({ op: 'close', reason: 'done' });
  });

  it('a long close reason is cut to fit and still reads', () => {
    const message = closeMessage('€'.repeat(500));
    expect(message.length - 1).toBeLessThanOrEqual(MAX_CLOSE_REASON_BYTES);
    expect(readChannelMessage(message)).toMatchObject({ op: 'close' });
  });

  it('refuses empty messages, unknown ops, empty middle chunks and bad UTF-8 (BAD_FRAME)', () => {
    const bad = [
      new Uint8Array(0),
      Uint8Array.of(0x07, 1),
      Uint8Array.of(0x01),
      Uint8Array.of(0x83, 0x41),
      Uint8Array.of(0x03, 0xff, 0xfe),
      Uint8Array.of(0x03, ...new Uint8Array(MAX_CLOSE_REASON_BYTES + 1).fill(0x41)),
    ];
    for (const message of bad) expect(codeOf(() => readChannelMessage(message))).toBe('BAD_FRAME');
  });
});

/** 256 MiB of zeros, deflated (made once, with zlib: fast). */
const bomb = new Uint8Array(deflateRawSync(Buffer.alloc(256 * 1024 * 1024), { level: 9 }));

const codecs: Array<[string, FrameCodec]> = [
  ['fflate', fflateCodec],
  ['zlib', zlibCodec],
];

describe.each(codecs)('frame compression (%s)', (_, codec) => {
  const deflateFrame = (frame: Uint8Array) => codec.deflate(frame);
  const inflateFrame = (data: Uint8Array, max: number) => codec.inflate(data, max);

  it('round-trips a compressible frame, and leaves small or random ones alone', () => {
    const frame = text(5000);
    const packed = deflateFrame(frame)!;
    expect(packed.length).toBeLessThan(frame.length / 3);
    expect(inflateFrame(packed, 1 << 20)).toEqual(frame);
    expect(deflateFrame(text(3))).toBeNull();
    expect(deflateFrame(crypto.getRandomValues(new Uint8Array(8192)))).toBeNull();
  });

  it('reads what the other codec wrote', () => {
    const frame = text(3000);
    for (const [, other] of codecs)
      expect(codec.inflate(other.deflate(frame)!, 1 << 20)).toEqual(frame);
  });

  it('refuses frames that lie about their length, bombs included, without inflating them', () => {
    const withLength = (length: number, body: Uint8Array): Uint8Array => {
      const out = new Uint8Array(4 + body.length);
      new DataView(out.buffer).setUint32(0, length);
      out.set(body, 4);
      return out;
    };
    const zeros = bomb; // ~256 KiB in, 256 MiB out
    const started = process.memoryUsage().arrayBuffers;
    expect(codeOf(() => inflateFrame(withLength(1000, zeros), 1 << 20))).toBe('BAD_FRAME');
    // It stopped soon after the declared 1000 bytes: a small part of the 256 MiB was allocated.
    expect(process.memoryUsage().arrayBuffers - started).toBeLessThan(48 * 1024 * 1024);
    expect(codeOf(() => inflateFrame(withLength(2 << 20, zeros), 1 << 20))).toBe('FRAME_TOO_LARGE');
    const frame = text(500);
    const packed = deflateFrame(frame)!;
    expect(
      codeOf(() => inflateFrame(withLength(frame.length + 1, packed.subarray(4)), 1 << 20)),
    ).toBe('BAD_FRAME');
    expect(codeOf(() => inflateFrame(packed.subarray(0, packed.length - 9), 1 << 20))).toBe(
      'BAD_FRAME',
    );
    expect(
      codeOf(() => inflateFrame(withLength(10, Uint8Array.of(0xff, 0xff, 0xff)), 1 << 20)),
    ).toBe('BAD_FRAME');
    expect(codeOf(() => inflateFrame(Uint8Array.of(0, 0), 1 << 20))).toBe('BAD_FRAME');
  });
});

describe('inflateStart (the hint of a compressed frame still arriving)', () => {
  const frame = new TextEncoder().encode(
    JSON.stringify(Array.from({ length: 5000 }, (_, k) => ({ k }))),
  );

  it("inflates a compressed frame's start from its first piece alone", () => {
    const packed = fflateCodec.deflate(frame)!;
    expect(inflateStart(packed.subarray(0, 600), 256)).toEqual(frame.subarray(0, 256));
    expect(inflateStart(zlibCodec.deflate(frame)!.subarray(0, 600), 100)).toEqual(
      frame.subarray(0, 100),
    );
  });

  it('gives null, never throws, for what does not inflate', () => {
    expect(inflateStart(Uint8Array.of(0, 0, 0, 9), 256)).toBeNull();
    expect(inflateStart(Uint8Array.of(0, 0, 1, 0, 0xff, 0xff, 0xff, 0xff, 0xff), 256)).toBeNull();
    const random = Uint8Array.from({ length: 2000 }, (_, k) => (k * 151 + 7) & 0xff);
    const start = inflateStart(random, 256);
    expect(start === null || start.length <= 256).toBe(true);
  });
});
