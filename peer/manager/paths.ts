import { raceAbort } from '../../shared/abort.js';
import { MeshsyncError, toMeshsyncError } from '../../shared/errors.js';
import type { DeviceId } from '../../shared/ids.js';
import type { Endpoint } from '../../shared/token/endpoint.js';
import type { Mesh } from '../mesh/mesh.js';
import type { RtcConnector } from '../rtc/rtc-connector.js';
import type { SignalingClient } from '../signaling/signaling-client.js';
import type { SyncSession } from '../sync/session.js';
import type { SyncOptions } from '../sync/session-types.js';
import type { DirectDialer } from '../transport/direct-dialer.js';
import type { EndpointBook } from './endpoint-book.js';

/** The rungs of the connection ladder, best first. */
export type PathKind = 'webrtc' | 'websocket' | 'http';
export const PATHS: readonly PathKind[] = ['webrtc', 'websocket', 'http'];

/** Lower is better. Transports of other kinds (relay, memory, ...) rank after these. */
export function pathRank(kind: string): number {
  const k = PATHS.indexOf(kind as PathKind);
  return k < 0 ? PATHS.length : k;
}

/** One way of reaching a device. */
export interface PathOpener {
  kind: PathKind;
  /** Why this path cannot be tried for `device` now, or null when it can. */
  unavailable(device: DeviceId): string | null;
  /** An authenticated, ready session with `device`; rejects with a coded error. */
  open(device: DeviceId, signal: AbortSignal): Promise<SyncSession>;
}

/** Rejects when `signal` aborts, with its reason. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortError(signal));
  return raceAbort(promise, signal, () => abortError(signal));
}

function abortError(signal: AbortSignal): MeshsyncError {
  const reason: unknown = signal.reason;
  return reason instanceof MeshsyncError ? reason : new MeshsyncError('ABORTED', 'aborted');
}

/** WebRTC through the signaling server: possible while both devices are in the mesh's room. */
export function rtcPath(rtc: RtcConnector, signaling: SignalingClient, room: string): PathOpener {
  return {
    kind: 'webrtc',
    unavailable(device) {
      if (signaling.state !== 'open') return `signaling server not connected (${signaling.state})`;
      if (!signaling.members(room).includes(device)) return 'not online on the signaling server';
      return null;
    },
    open(device, signal) {
      return abortable(rtc.connect(device), signal);
    },
  };
}

/** A direct WebSocket or HTTP connection to any endpoint the device is known to listen on. */
export function directPath(
  kind: 'websocket' | 'http',
  context: { mesh: Mesh; dialer: DirectDialer; book: EndpointBook; sync: SyncOptions },
): PathOpener {
  const { mesh, dialer, book, sync } = context;
  const openAt = async (
    device: DeviceId,
    endpoint: Endpoint,
    signal: AbortSignal,
  ): Promise<SyncSession> => {
    const raw = await dialer[kind](endpoint, { signal });
    let session: SyncSession | undefined;
    try {
      session = await mesh.connect(raw, { ...sync, signal });
      await abortable(session.whenReady(), signal);
    } catch (err) {
      session?.close('connect aborted');
      raw.close('connect failed');
      throw err;
    }
    if (session.remoteDevice !== device) {
      session.close('another device answered');
      throw new MeshsyncError(
        'CONNECT_FAILED',
        `${endpoint.host}:${endpoint.port} is device ${session.remoteDevice}, not ${device}`,
      );
    }
    return session;
  };
  return {
    kind,
    unavailable(device) {
      return book.get(device).length === 0 ? 'no known direct endpoint' : null;
    },
    async open(device, signal) {
      const failures: string[] = [];
      let last: MeshsyncError | undefined;
      for (const endpoint of book.get(device)) {
        if (signal.aborted) break;
        try {
          return await openAt(device, endpoint, signal);
        } catch (err) {
          last = toMeshsyncError(err, 'CONNECT_FAILED');
          failures.push(`${endpoint.host}:${endpoint.port}: ${last.message}`);
        }
      }
      if (signal.aborted) throw abortError(signal);
      if (!last) throw new MeshsyncError('CONNECT_FAILED', 'no known direct endpoint');
      if (failures.length === 1) throw last;
      throw new MeshsyncError(last.code, failures.join('; '), {
        cause: last,
        details: { endpoints: failures.length },
      });
    },
  };
}
