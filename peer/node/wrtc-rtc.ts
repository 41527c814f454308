import wrtc from '@roamhq/wrtc';
import type { DataChannelTuning, RtcPort } from '../rtc/rtc-port.js';
import { w3cRtc, type W3cPeerConnectionClass } from '../rtc/w3c-rtc.js';
import { zlibCodec } from './zlib-codec.js';

/**
 * libwebrtc takes 256 KiB messages and sends fast; it closes a channel whose send buffer
 * passes 16 MiB, so a few MiB stay queued at most. Compression would only slow it down.
 */
export const WRTC_TUNING: DataChannelTuning = {
  messageBytes: 256 * 1024,
  highWaterBytes: 4 * 1024 * 1024,
  lowWaterBytes: 1024 * 1024,
  compress: 'never',
};

/**
 * The @roamhq/wrtc implementation of the RTC port (libwebrtc, binaries shipped in its npm
 * package). Install `@roamhq/wrtc` next to meshsync to use it. Every connection it makes must
 * be closed: an open one keeps the process alive (meshsync's transports close theirs).
 */
export function wrtcRtc(options: { tuning?: Partial<DataChannelTuning> } = {}): RtcPort {
  const port = w3cRtc(wrtc.RTCPeerConnection as unknown as W3cPeerConnectionClass, {
    name: 'wrtc',
    tuning: { ...WRTC_TUNING, ...options.tuning },
  });
  return { ...port, codec: zlibCodec };
}
