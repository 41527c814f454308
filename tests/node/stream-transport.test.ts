import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { StreamTransport } from '../../peer/node/stream-transport.js';
import { runLateListenerCheck, runTransportConformance } from '../conformance/transport-suite.js';

function streamPair(): [StreamTransport, StreamTransport] {
  const ab = new PassThrough();
  const ba = new PassThrough();
  return [new StreamTransport(ba, ab), new StreamTransport(ab, ba)];
}

describe('stream transport', () => {
  runTransportConformance('stream (PassThrough pair)', streamPair);
  runLateListenerCheck('stream (PassThrough pair)', streamPair);

  it('reassembles frames split across chunks and joined in one chunk', async () => {
    const input = new PassThrough();
    const t = new StreamTransport(input, new PassThrough());
    const got: number[][] = [];
    t.on('message', (f) => got.push([...f]));
    const frame = (bytes: number[]): Buffer =>
      Buffer.concat([Buffer.from([0, 0, 0, bytes.length]), Buffer.from(bytes)]);
    const both = Buffer.concat([frame([1, 2, 3]), frame([4]), frame([])]);
    for (const byte of both) input.write(Buffer.from([byte])); // one byte at a time
    input.write(both); // all at once
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual([[1, 2, 3], [4], [], [1, 2, 3], [4], []]);
  });

  it('closes with FRAME_TOO_LARGE on an oversized length prefix, before reading the body', async () => {
    const input = new PassThrough();
    const t = new StreamTransport(input, new PassThrough(), { maxFrameBytes: 1024 });
    const closed = new Promise((resolve) => t.on('close', resolve));
    input.write(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    await expect(closed).resolves.toMatchObject({ error: { code: 'FRAME_TOO_LARGE' } });
  });
});
