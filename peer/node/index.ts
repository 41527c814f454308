/** meshsync for Node: the isomorphic API plus Node adapters. */
export * from '../index.js';
export { SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
export { APPLICATION_ID, SCHEMA_VERSION } from './sqlite-schema.js';
export { StreamTransport, type StreamTransportOptions } from './stream-transport.js';
export { qrPng, decodeQrPng, type QrPngOptions } from './qr-png.js';
export { nodeWebSocket } from './web-socket.js';
export { nodeDirectDialer } from './direct-dialer.js';
export {
  DirectListener,
  type DirectListenerOptions,
  type DirectListenerEvents,
} from './direct-listener.js';
export {
  DirectServer,
  type DirectServerOptions,
  type DirectServerEvents,
  type RefusedInfo,
} from './direct-server.js';
export { isLocalAddress } from './address-filter.js';
export {
  weriftRtc,
  neutraliseWeriftDefaultStun,
  WERIFT_TUNING,
  WERIFT_LOOPBACK,
  type WeriftRtcOptions,
} from './werift-rtc.js';
export { nativeEd25519Verify } from './ed25519.js';
export { LanDiscovery } from './mdns/lan-discovery.js';
export type {
  DiscoveryTarget,
  IgnoredReason,
  LanDiscoveryEvents,
  LanDiscoveryOptions,
  LanDiscoveryStatus,
  LanPeer,
  LostReason,
} from './mdns/discovery-types.js';
export { multicastDnsSocket, type MdnsSocket, type OpenMdnsSocket } from './mdns/mdns-socket.js';
export type { LanInterface } from './mdns/lan-interfaces.js';
export { SERVICE_TYPE } from './mdns/service-records.js';
export {
  MESH_TAG_PERIOD_SECONDS,
  meshTag,
  currentMeshTag,
  acceptsMeshTag,
  tagPeriod,
} from '../../shared/discovery/mesh-tag.js';
