import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compactSdp,
  decodeCompactSdp,
  encodeCompactSdp,
  rebuildSdp,
  type CompactSdp,
} from '../../shared/sdp/index.js';
import { hasChromium, launchChromiumRtc, type ChromiumRtc } from '../support/rtc-chromium.js';
import { withTimeout, type TestRtcPeer } from '../support/rtc-peer.js';
import {
  createWeriftConnection,
  createWeriftTestPeer,
  weriftGatheringComplete,
  weriftStunServer,
} from '../support/rtc-werift.js';
import { createWrtcTestPeer } from '../support/rtc-wrtc.js';

/*
 * Real WebRTC connections where each side only ever sees the SDP rebuilt from the other side's
 * compact binary form. They run only inside a loopback-only network namespace (`npm test`, or
 * `/work/shared/tools/isolated npx vitest run ...`): the stacks would otherwise gather and probe
 * the machine's real interfaces.
 */
const isolated = process.env.MESHSYNC_ISOLATED === '1';
const T = 30_000;

type Stack = 'werift' | 'wrtc';
const create: Record<Stack, () => TestRtcPeer> = {
  werift: () => createWeriftTestPeer(),
  wrtc: () => createWrtcTestPeer(),
};

/** What the other side receives: compact -> binary -> decoded -> rebuilt SDP. */
function viaCompact(type: 'offer' | 'answer', sdp: string): string {
  const bytes = encodeCompactSdp(compactSdp(type, sdp));
  return rebuildSdp(decodeCompactSdp(bytes));
}

/** Connects through rebuilt SDPs, checks one message each way, and closes both peers. */
async function connectThroughCompact(offerer: TestRtcPeer, answerer: TestRtcPeer): Promise<void> {
  try {
    const offer = await withTimeout(offerer.offer(), T, `${offerer.stack} offer`);
    const answer = await withTimeout(
      answerer.answer(viaCompact('offer', offer)),
      T,
      `${answerer.stack} answer`,
    );
    await withTimeout(offerer.accept(viaCompact('answer', answer)), T, 'accept answer');
    const [a, b] = await withTimeout(
      Promise.all([offerer.channel(), answerer.channel()]),
      T,
      'data channel open',
    );
    await a.send(`hello from ${offerer.stack}`);
    await b.send(`hello from ${answerer.stack}`);
    expect(await withTimeout(b.next(), T, 'message to answerer')).toBe(
      `hello from ${offerer.stack}`,
    );
    expect(await withTimeout(a.next(), T, 'message to offerer')).toBe(
      `hello from ${answerer.stack}`,
    );
  } finally {
    await offerer.close();
    await answerer.close();
  }
}

/** An offer whose candidates cover every kind, transport and address family we carry. */
const WIDE_OFFER: CompactSdp = {
  type: 'offer',
  ufrag: 'wXyZ',
  pwd: 'abcdefghijklmnopqrstuv+/',
  fingerprint: { algorithm: 'sha-256', hash: Uint8Array.from({ length: 32 }, (_, i) => i * 7) },
  setup: 'actpass',
  candidates: [
    { kind: 'host', protocol: 'udp', address: '127.0.0.1', port: 9 },
    { kind: 'host', protocol: 'udp', address: '::1', port: 9 },
    {
      kind: 'host',
      protocol: 'udp',
      address: '0f9c61e3-6e8b-403a-9fac-a609cb1c8773.local',
      port: 9,
    },
    { kind: 'srflx', protocol: 'udp', address: '127.0.0.2', port: 9 },
    { kind: 'prflx', protocol: 'udp', address: '127.0.0.3', port: 9 },
    { kind: 'relay', protocol: 'udp', address: '127.0.0.4', port: 9 },
    { kind: 'host', protocol: 'tcp', tcpType: 'passive', address: '127.0.0.1', port: 9 },
    { kind: 'host', protocol: 'tcp', tcpType: 'active', address: '127.0.0.1', port: 9 },
    { kind: 'host', protocol: 'tcp', tcpType: 'so', address: '127.0.0.1', port: 10 },
  ],
  sctpPort: 5000,
  maxMessageSize: 262144,
  mid: '0',
};

/** The answerer accepts the rebuilt wide offer and answers it (nothing needs to connect). */
async function acceptsWideOffer(answerer: TestRtcPeer): Promise<void> {
  try {
    const answer = await withTimeout(answerer.answer(rebuildSdp(WIDE_OFFER)), T, 'answer');
    const c = compactSdp('answer', answer);
    expect(c.mid).toBe('0');
    expect(['active', 'passive']).toContain(c.setup);
  } finally {
    await answerer.close();
  }
}

describe.skipIf(!isolated)('WebRTC through compact SDP (loopback namespace)', () => {
  const pairs: [Stack, Stack][] = [
    ['werift', 'werift'],
    ['wrtc', 'wrtc'],
    ['werift', 'wrtc'],
    ['wrtc', 'werift'],
  ];
  for (const [offerer, answerer] of pairs) {
    it(`${offerer} offers, ${answerer} answers: the channel opens`, async () => {
      await connectThroughCompact(create[offerer](), create[answerer]());
    });
  }

  for (const stack of ['werift', 'wrtc'] as const) {
    it(`${stack} accepts a rebuilt offer with every candidate form`, async () => {
      await acceptsWideOffer(create[stack]());
    });
  }

  it('werift queries no STUN server when none is configured', async () => {
    const pc = createWeriftConnection();
    try {
      pc.createDataChannel('probe');
      await pc.setLocalDescription(await pc.createOffer());
      await withTimeout(weriftGatheringComplete(pc), T, 'gathering');
      expect(weriftStunServer(pc)).toBeUndefined();
      const c = compactSdp('offer', pc.localDescription?.sdp ?? '');
      expect(c.candidates).toEqual([
        { kind: 'host', protocol: 'udp', address: '127.0.0.1', port: c.candidates[0]?.port },
      ]);
    } finally {
      await pc.close();
    }
  });
});

// CI installs Chromium (.ci/run) and sets MESHSYNC_REQUIRE_CHROMIUM, so there a missing browser
// fails instead of skipping.
if (process.env.MESHSYNC_REQUIRE_CHROMIUM === '1' && !hasChromium()) {
  it('Chromium is installed (MESHSYNC_REQUIRE_CHROMIUM)', () => {
    throw new Error('/usr/bin/chromium is missing: apt-get install chromium');
  });
}

describe.skipIf(!isolated || !hasChromium())('Chromium through compact SDP', () => {
  let browser: ChromiumRtc | undefined;
  beforeAll(async () => {
    browser = await launchChromiumRtc();
  });
  afterAll(async () => {
    await browser?.close();
  });
  const page = (): Promise<TestRtcPeer> => {
    if (!browser) throw new Error('Chromium did not start');
    return browser.newPeer();
  };

  for (const other of ['werift', 'wrtc', 'chromium'] as const) {
    const peer = (): Promise<TestRtcPeer> =>
      other === 'chromium' ? page() : Promise.resolve(create[other]());
    it(`chromium offers, ${other} answers: the channel opens`, async () => {
      await connectThroughCompact(await page(), await peer());
    });
    if (other !== 'chromium') {
      it(`${other} offers, chromium answers: the channel opens`, async () => {
        await connectThroughCompact(await peer(), await page());
      });
    }
  }

  it('chromium accepts a rebuilt offer with every candidate form', async () => {
    await acceptsWideOffer(await page());
  });
});
