import type { Unsubscribe } from '../../shared/emitter.js';
import type { DeviceId } from '../../shared/ids.js';
import type { Endpoint } from '../../shared/token/endpoint.js';
import type { RtcConnector } from '../rtc/rtc-connector.js';
import type { SignalingClient } from '../signaling/signaling-client.js';
import type { SyncSession } from '../sync/session.js';
import type { StartedBy } from './link.js';
import type { SessionSource } from './manager-types.js';

/** What the manager does with what its sources report. */
export interface SourceHandlers {
  /** A member is online on the signaling server. */
  seen(device: DeviceId): void;
  /** It went offline there. */
  gone(device: DeviceId): void;
  /** A session came (from WebRTC or the listener), started by `by`. */
  session(device: DeviceId, session: SyncSession, by: StartedBy): void;
  /** A member said where it listens (a sealed signal). */
  endpoints(device: DeviceId, endpoints: Endpoint[]): void;
}

/** Subscribes to presence, WebRTC sessions and signals, and the listener's sessions. */
export function followSources(
  self: DeviceId,
  room: string,
  sources: { signaling?: SignalingClient; rtc?: RtcConnector; listener?: SessionSource },
  on: SourceHandlers,
): Unsubscribe[] {
  const { signaling, rtc, listener } = sources;
  const offs: Unsubscribe[] = [];
  if (signaling) {
    offs.push(
      signaling.on('online', (e) => {
        if (e.room === room) on.seen(e.device);
      }),
      signaling.on('joined', (e) => {
        if (e.room === room) for (const device of e.members) on.seen(device);
      }),
      signaling.on('offline', (e) => {
        if (e.room === room) on.gone(e.device);
      }),
    );
  }
  if (rtc) {
    offs.push(
      // The device with the smaller id always offers: it started the connection.
      rtc.on('session', (e) => on.session(e.device, e.session, self < e.device ? 'us' : 'them')),
      rtc.on('endpoints', (e) => on.endpoints(e.device, e.endpoints)),
    );
  }
  if (listener) {
    offs.push(
      listener.on('session', (session) => {
        const device = session.remoteDevice ?? session.transport.remoteDevice;
        if (device) on.session(device, session, 'them');
        else session.close('no authenticated device');
      }),
    );
  }
  return offs;
}
