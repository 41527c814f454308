import { afterEach, describe, expect, it } from 'vitest';
import { Mesh } from '../../peer/mesh/mesh.js';
import { createPeer, type Peer } from '../../peer/peer.js';
import { SecureTransport } from '../../peer/secure/secure-transport.js';
import { MemoryStore } from '../../peer/store/memory-store.js';
import { createMemoryTransportPair } from '../../peer/transport/memory-transport.js';
import type { Transport } from '../../peer/transport/transport-port.js';
import { silentLogger } from '../../shared/log.js';
import {
  openRtcTransportPair,
  testRtc,
  type RtcStack,
  type RtcTransportPair,
} from '../support/rtc-pair.js';
import { rejectionCode } from '../support/codes.js';
import { withTimeout } from '../support/rtc-peer.js';

/*
 * The secure-session handshake over real WebRTC data channels (werift and @roamhq/wrtc), its
 * channel binding taken from the DTLS fingerprints in the SDPs. Only inside a loopback-only
 * network namespace (`npm test`, or `/work/shared/tools/isolated npx vitest run ...`).
 */
const isolated = process.env.MESHSYNC_ISOLATED === '1';
const T = 30_000;

const peers: Peer[] = [];
const pairs: RtcTransportPair[] = [];

async function device(): Promise<Peer> {
  const peer = await createPeer({ store: new MemoryStore(), logger: silentLogger });
  peers.push(peer);
  return peer;
}

async function rtcPair(a: RtcStack, b: RtcStack): Promise<RtcTransportPair> {
  const pair = await openRtcTransportPair(testRtc(a), testRtc(b), T);
  pairs.push(pair);
  return pair;
}

afterEach(async () => {
  // Every RTCPeerConnection is closed: an open wrtc connection keeps the process alive.
  for (const pair of pairs.splice(0)) pair.close();
  for (const peer of peers.splice(0)) await peer.stop();
});

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** Meshes A and B: B joined A's mesh with an invite, over a memory pair. */
async function pairedMeshes(): Promise<{ a: Mesh; b: Mesh }> {
  const a = await Mesh.create(await device(), { name: 'A' });
  const token = await a.invite();
  const [ta, tb] = createMemoryTransportPair();
  const [sa, joined] = await Promise.all([
    a.connect(ta),
    Mesh.join(await device(), token, tb, { name: 'B' }),
  ]);
  await Promise.all([sa.whenReady(), joined.session.whenReady()]);
  await joined.session.sync();
  await sa.sync();
  sa.close('paired');
  joined.session.close('paired');
  return { a, b: joined.mesh };
}

/** The man in the middle: every frame from one leg goes to the other unchanged. */
function relay(m1: Transport, m2: Transport): void {
  m1.on('message', (frame) => void m2.send(frame).catch(() => undefined));
  m2.on('message', (frame) => void m1.send(frame).catch(() => undefined));
  m1.on('close', () => m2.close('relay'));
  m2.on('close', () => m1.close('relay'));
}

describe.skipIf(!isolated)('secure session over real WebRTC data channels', () => {
  const mixed: [RtcStack, RtcStack][] = [
    ['werift', 'wrtc'],
    ['wrtc', 'werift'],
  ];

  for (const [x, y] of mixed) {
    it(`${x} <-> ${y}: frames pass both ways, the bindings mirror, close reaches both once`, async () => {
      const { a, b } = await rtcPair(x, y);
      expect(a.kind).toBe('webrtc');
      expect(a.streaming).toBe(true);
      expect(a.binding.local).toHaveLength(32);
      expect(a.binding.remote).toHaveLength(32);
      expect(hex(a.binding.local)).toBe(hex(b.binding.remote));
      expect(hex(a.binding.remote)).toBe(hex(b.binding.local));
      expect(hex(a.binding.local)).not.toBe(hex(a.binding.remote));

      const toB: string[] = [];
      const toA: string[] = [];
      const gotB = new Promise<void>((resolve) =>
        b.on('message', (f) => {
          toB.push(hex(f));
          if (toB.length === 2) resolve();
        }),
      );
      const gotA = new Promise<void>((resolve) =>
        a.on('message', (f) => {
          toA.push(hex(f));
          resolve();
        }),
      );
      const big = Uint8Array.from({ length: 60_000 }, (_, i) => i % 251);
      await a.send(Uint8Array.of(1, 2, 3).subarray(1));
      await a.send(big);
      await b.send(Uint8Array.of(9));
      await withTimeout(Promise.all([gotA, gotB]), T, 'frames');
      expect(toB).toEqual(['0203', hex(big)]);
      expect(toA).toEqual(['09']);

      const closes = { a: 0, b: 0 };
      const bClosed = new Promise<string>((resolve) =>
        b.on('close', ({ reason }) => {
          closes.b++;
          resolve(reason);
        }),
      );
      a.on('close', () => closes.a++);
      a.close('done');
      a.close('again');
      expect(await withTimeout(bClosed, T, 'close reaches the other side')).toBe(
        'closed by the other side: done',
      );
      b.close('late');
      expect(closes).toEqual({ a: 1, b: 1 });
      expect(await rejectionCode(a.send(Uint8Array.of(1)))).toBe('CLOSED');
    });
  }

  it('members connect over werift <-> wrtc: DTLS-bound, not encrypted again, and sync', async () => {
    const { a, b } = await pairedMeshes();
    const { a: rtcA, b: rtcB } = await rtcPair('werift', 'wrtc');
    const [sa, sb] = await withTimeout(
      Promise.all([a.connect(rtcA), b.connect(rtcB)]),
      T,
      'secure handshake',
    );
    await withTimeout(Promise.all([sa.whenReady(), sb.whenReady()]), T, 'sync handshake');
    expect(sa.remoteDevice).toBe(b.device);
    expect(sb.remoteDevice).toBe(a.device);
    for (const session of [sa, sb]) {
      expect(session.transport).toBeInstanceOf(SecureTransport);
      expect((session.transport as SecureTransport).encrypted).toBe(false);
      expect(session.transport.kind).toBe('webrtc');
    }

    // DTLS protects the wire, so the records pass our layer in the clear.
    const wire: string[] = [];
    rtcB.on('message', (f) => wire.push(new TextDecoder().decode(f)));
    await a.peer.collection('notes').put('n1', { text: 'meet at noon' });
    await withTimeout(sb.pull(), T, 'pull');
    expect(await b.peer.collection('notes').get('n1')).toEqual({ text: 'meet at noon' });
    expect(wire.join('').includes('meet at noon')).toBe(true);
  });

  const mitm: [string, RtcStack, RtcStack][] = [
    ['werift <-> wrtc', 'werift', 'wrtc'],
    ['wrtc <-> wrtc', 'wrtc', 'wrtc'],
  ];
  for (const [name, end, middle] of mitm) {
    it(`a relay between two real ${name} connections is caught (AUTH_MITM)`, async () => {
      const { a, b } = await pairedMeshes();
      // A <-> M1 and M2 <-> B. The relay's connections are always of the `middle` stack: werift
      // uses one DTLS certificate per process, so a werift relay in this process would show the
      // same fingerprint as a werift end and hide itself.
      const left = await rtcPair(end, middle);
      const right = await rtcPair(middle, end);
      const legA = left.a;
      const legB = right.b;
      expect(hex(legA.binding.remote)).not.toBe(hex(legB.binding.local));
      expect(hex(legB.binding.remote)).not.toBe(hex(legA.binding.local));
      relay(left.b, right.a);

      const codes = await withTimeout(
        Promise.all([rejectionCode(a.connect(legA)), rejectionCode(b.connect(legB))]),
        T,
        'both handshakes settle',
      );
      // Each side that reads the other's proof refuses it (AUTH_MITM). With werift the other
      // side may only time out: libwebrtc sometimes drops a werift DATA chunk (werift resends it
      // after ~1 s), and a werift channel closed meanwhile never delivers it (see the report).
      expect(codes).not.toContain('resolved');
      expect(codes).toContain('AUTH_MITM');
    });
  }
});
