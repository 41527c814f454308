import { WERIFT_LOOPBACK, weriftRtc } from '../../peer/node/werift-rtc.js';
import { wrtcRtc } from '../../peer/node/wrtc-rtc.js';
import type { DataChannelTransport } from '../../peer/rtc/data-channel-transport.js';
import { RtcAttempt } from '../../peer/rtc/rtc-attempt.js';
import type { DataChannelTuning, RtcPort } from '../../peer/rtc/rtc-port.js';

export type RtcStack = 'werift' | 'wrtc';
export const RTC_STACKS: readonly RtcStack[] = ['werift', 'wrtc'];
/** Every ordered pair of Node stacks: werift<->werift, werift<->wrtc, wrtc<->werift, wrtc<->wrtc. */
export const RTC_PAIRS: ReadonlyArray<[RtcStack, RtcStack]> = RTC_STACKS.flatMap((a) =>
  RTC_STACKS.map((b): [RtcStack, RtcStack] => [a, b]),
);

/**
 * The RTC port of a stack as tests run it, inside a loopback-only namespace: werift needs
 * 127.0.0.1 named (it skips loopback interfaces), wrtc finds loopback by itself.
 */
export function testRtc(stack: RtcStack, tuning: Partial<DataChannelTuning> = {}): RtcPort {
  if (stack === 'wrtc') return wrtcRtc({ tuning });
  return weriftRtc({
    config: WERIFT_LOOPBACK,
    tuning,
  });
}

export interface RtcTransportPair {
  /** The offerer's transport. */
  a: DataChannelTransport;
  /** The answerer's transport. */
  b: DataChannelTransport;
  /** Closes both (and so both peer connections). */
  close(): void;
}

/**
 * Two data-channel transports connected by two real `RtcAttempt`s whose signals are handed
 * straight to each other (no signaling server). Always `close()` the pair: an open wrtc
 * connection keeps the process alive.
 */
export async function openRtcTransportPair(
  portA: RtcPort,
  portB: RtcPort,
  timeoutMs = 20_000,
): Promise<RtcTransportPair> {
  const id = 'aaaaaaaaaaaaaaaa';
  // Each side's signals reach the other in a later microtask, as through a server.
  const b: RtcAttempt = new RtcAttempt({
    id,
    device: 'a',
    initiator: false,
    rtc: portB,
    iceServers: [],
    timeoutMs,
    send: async (signal) => {
      await Promise.resolve();
      if (signal.t === 'answer') await a.onAnswer(signal.sdp);
      else if (signal.t === 'candidates') await a.onCandidates(signal.c);
    },
  });
  const a: RtcAttempt = new RtcAttempt({
    id,
    device: 'b',
    initiator: true,
    rtc: portA,
    iceServers: [],
    timeoutMs,
    send: async (signal) => {
      await Promise.resolve();
      if (signal.t === 'offer') await b.onOffer(signal.sdp);
      else if (signal.t === 'candidates') await b.onCandidates(signal.c);
    },
  });
  await a.start();
  try {
    const [ta, tb] = await Promise.all([a.opened, b.opened]);
    return {
      a: ta,
      b: tb,
      close: () => {
        ta.close('test over');
        tb.close('test over');
      },
    };
  } catch (err) {
    a.opened.then(
      (t) => t.close('failed'),
      () => undefined,
    );
    b.opened.then(
      (t) => t.close('failed'),
      () => undefined,
    );
    throw err;
  }
}
