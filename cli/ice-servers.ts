import { InvalidArgumentError, Option } from 'commander';
import type { RtcIceServer } from '../peer/rtc/rtc-port.js';

const SCHEMES = /^(stun|stuns|turn|turns):/;

/**
 * One `--ice-server`: `stun:host:port`, or `turn:user:credential@host:port` (the credentials,
 * if any, taken out of the URL, as RTCPeerConnection wants them). Query parts such as
 * `?transport=tcp` stay.
 */
export function parseIceServer(text: string, previous: RtcIceServer[] = []): RtcIceServer[] {
  const found = SCHEMES.exec(text);
  if (!found || text.length > 512 || /\s/.test(text)) {
    throw new InvalidArgumentError(
      'expected stun:HOST[:PORT] or turn:[USER:CREDENTIAL@]HOST[:PORT]',
    );
  }
  const scheme = found[0];
  const rest = text.slice(scheme.length);
  const at = rest.lastIndexOf('@');
  if (at < 0) return [...previous, { urls: text }];
  if (!scheme.startsWith('turn'))
    throw new InvalidArgumentError('only TURN servers take USER:CREDENTIAL@');
  const userinfo = rest.slice(0, at);
  const colon = userinfo.indexOf(':');
  if (colon <= 0) throw new InvalidArgumentError('expected turn:USER:CREDENTIAL@HOST[:PORT]');
  return [
    ...previous,
    {
      urls: `${scheme}${rest.slice(at + 1)}`,
      username: decodeURIComponent(userinfo.slice(0, colon)),
      credential: decodeURIComponent(userinfo.slice(colon + 1)),
    },
  ];
}

/** `--ice-server URL`, repeatable (env MESHSYNC_ICE_SERVERS, comma-separated). None by default. */
export function iceServerOption(): Option {
  return new Option(
    '--ice-server <url>',
    'a STUN or TURN server for WebRTC, repeatable (stun:host:port, turn:user:pass@host:port) [default: none]',
  )
    .env('MESHSYNC_ICE_SERVERS')
    .argParser((value: string, previous: RtcIceServer[] | undefined) =>
      value
        .split(',')
        .filter((v) => v !== '')
        .reduce((list, one) => parseIceServer(one, list), previous ?? []),
    );
}
