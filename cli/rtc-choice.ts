import { InvalidArgumentError } from 'commander';
import type { RtcPort } from '../peer/rtc/rtc-port.js';
import { WERIFT_LOOPBACK, weriftRtc } from '../peer/node/werift-rtc.js';
import { CliError } from './cli-error.js';

export type RtcChoice = 'werift' | 'wrtc' | 'none';

/**
 * The WebRTC implementation `--rtc` names. `loopback` (`--ice-loopback`) makes werift gather
 * 127.0.0.1 only: two devices on one machine with no other interface (tests, namespaces).
 * @roamhq/wrtc is an optional peer dependency, loaded only when asked for.
 */
export async function rtcPort(choice: RtcChoice, loopback: boolean): Promise<RtcPort | null> {
  if (choice === 'none') return null;
  if (choice === 'werift') return weriftRtc(loopback ? { config: WERIFT_LOOPBACK } : {});
  try {
    const { wrtcRtc } = await import('../peer/node/wrtc-rtc.js');
    return wrtcRtc();
  } catch (err) {
    throw new CliError(
      'USAGE',
      `--rtc wrtc needs @roamhq/wrtc installed next to meshsync (${String(err)})`,
    );
  }
}

/** The implementation for pairing by hand, which has no use without WebRTC. */
export async function manualRtcPort(choice: RtcChoice, loopback: boolean): Promise<RtcPort> {
  const port = await rtcPort(choice, loopback);
  if (!port) throw new CliError('USAGE', 'pairing by hand needs WebRTC: --rtc werift or wrtc');
  return port;
}

export function parseRtcChoice(text: string): RtcChoice {
  if (text !== 'werift' && text !== 'wrtc' && text !== 'none') {
    throw new InvalidArgumentError('expected werift, wrtc or none');
  }
  return text;
}
