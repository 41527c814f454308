import { afterEach, describe } from 'vitest';
import { runLateListenerCheck, runTransportConformance } from '../conformance/transport-suite.js';
import {
  openRtcTransportPair,
  RTC_PAIRS,
  testRtc,
  type RtcTransportPair,
} from '../support/rtc-pair.js';

/*
 * The transport conformance suite over real WebRTC data channels, every pair of Node stacks.
 * Only inside a loopback-only network namespace (`npm test` makes one).
 */
const isolated = process.env.MESHSYNC_ISOLATED === '1';
const pairs: RtcTransportPair[] = [];

afterEach(() => {
  for (const pair of pairs.splice(0)) pair.close();
});

describe.skipIf(!isolated)('transport conformance over WebRTC data channels', () => {
  for (const [x, y] of RTC_PAIRS) {
    const open = async (): Promise<[RtcTransportPair['a'], RtcTransportPair['b']]> => {
      const pair = await openRtcTransportPair(testRtc(x), testRtc(y));
      pairs.push(pair);
      return [pair.a, pair.b];
    };
    runTransportConformance(`${x} -> ${y}`, open);
    runLateListenerCheck(`${x} -> ${y}`, open);
  }
});
