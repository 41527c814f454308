import type { Unsubscribe } from '../../shared/emitter.js';
import type { DeviceId } from '../../shared/ids.js';
import type { Logger } from '../../shared/log.js';
import type { Endpoint } from '../../shared/token/endpoint.js';
import type { Mesh } from '../mesh/mesh.js';
import type { RtcConnector } from '../rtc/rtc-connector.js';
import type { BackoffOptions } from '../signaling/backoff.js';
import type { SignalingClient } from '../signaling/signaling-client.js';
import type { SyncSession } from '../sync/session.js';
import type { SyncOptions, Timers } from '../sync/session-types.js';
import type { DirectDialer } from '../transport/direct-dialer.js';
import type { EndpointSource } from './endpoint-book.js';
import type { PathAttempt } from './ladder.js';

/** Something that hands over sessions other devices started (a `DirectListener`). */
export interface SessionSource {
  on(event: 'session', listener: (session: SyncSession) => void): Unsubscribe;
}

export interface MeshManagerOptions {
  mesh: Mesh;
  /** WebRTC through the signaling server (needs `signaling`, the client the connector uses). */
  rtc?: RtcConnector;
  /** The signaling client: presence says who is online for WebRTC. */
  signaling?: SignalingClient;
  /** Direct WebSocket and HTTP dialing (`nodeDirectDialer`, `browserDirectDialer`). */
  dialer?: DirectDialer;
  /** Sessions other devices start with us (a `DirectListener`). */
  listener?: SessionSource;
  /**
   * Where this device listens (e.g. `() => listener.endpoints()`): written to the mesh's
   * `_mesh.endpoints` record of this device, so members can dial it.
   */
  endpoints?: () => Endpoint[];
  /** Most devices connected (or being connected) at once. @default 16 */
  maxPeers?: number;
  /** Each rung of the ladder gets this long to give a ready session. @default 10_000 */
  connectTimeoutMs?: number;
  /** A device reached over a worse path is tried over the better ones this often. @default 60_000 */
  upgradeRetryMs?: number;
  /** An idle session is checked (a pull) this often. @default 15_000 */
  heartbeatMs?: number;
  /** A check with no answer and no progress for this long means the device is gone. @default 10_000 */
  heartbeatTimeoutMs?: number;
  /** A full sync (pull and push) this often, whatever else happens. @default 300_000 */
  syncIntervalMs?: number;
  /** Between failed connection rounds. @default initial 1 s, max 60 s, jitter 0.5 */
  backoff?: BackoffOptions;
  /** Options of every session the manager opens. */
  sync?: SyncOptions;
  timers?: Timers;
  now?: () => number;
  random?: () => number;
  logger?: Logger;
}

export type LinkState = 'connecting' | 'connected' | 'waiting' | 'idle';

/** One remote device as the manager sees it. */
export interface PeerLinkStatus {
  device: DeviceId;
  state: LinkState;
  /** The transport in use (`webrtc`, `websocket`, `http`), or null. */
  transport: string | null;
  /** Why this transport (or why none): the ladder's last climb, or how the session came. */
  why: string;
  /** The last climb, rung by rung. */
  attempts: PathAttempt[];
  /** Who started the session in use: this device or the other. */
  startedBy: 'us' | 'them' | null;
  /** ms since the epoch. */
  connectedAt: number | null;
  lastSyncAt: number | null;
  /** When the next connection round starts (state `waiting`). */
  retryAt: number | null;
  /** Our changes the device has not acknowledged yet (an upper bound). */
  pendingChanges: number;
  bytesIn: number;
  bytesOut: number;
  endpoints: Endpoint[];
  endpointSources: EndpointSource[];
  online: boolean;
}

export interface MeshManagerStatus {
  device: DeviceId;
  /** Devices with a ready session. */
  connected: number;
  /** e.g. `connected to 2 devices`. */
  summary: string;
  peers: PeerLinkStatus[];
}

export interface MeshManagerEvents extends Record<string, unknown> {
  /** Anything in the status changed (coalesced). */
  status: MeshManagerStatus;
  /** A device's session changed: a new one, a better path, or lost. */
  peer: PeerLinkStatus;
  /** A session the manager now keeps (opened by either side). */
  session: { device: DeviceId; session: SyncSession };
}
