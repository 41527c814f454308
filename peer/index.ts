export * from '../shared/index.js';
export {
  createPeer,
  Peer,
  type PeerOptions,
  type PeerStatus,
  type PeerEvents,
  type ConflictResolution,
} from './peer.js';
export { Collection, type ListQuery } from './collection.js';
export {
  Replica,
  changeEvents,
  type ReplicaOptions,
  type ChangeEvent,
  type AppliedBatch,
} from './replica.js';
export { SyncSession } from './sync/session.js';
export * from './sync/session-types.js';
export type * from './store/store-port.js';
export { MemoryStore } from './store/memory-store.js';
export type * from './transport/transport-port.js';
export { createMemoryTransportPair, type MemoryPairOptions } from './transport/memory-transport.js';
export {
  WebSocketTransport,
  type WebSocketTransportOptions,
} from './transport/web-socket-transport.js';
export { HttpTransport, type HttpTransportOptions } from './transport/http-transport.js';
export type * from './transport/fetch-port.js';
export {
  createDirectDialer,
  type DirectDialer,
  type DirectDialerPorts,
  type DialOptions,
} from './transport/direct-dialer.js';
export { DIRECT_PATHS, endpointUrl } from '../shared/direct/direct-paths.js';
export { joinRecord, visibleValue, isVisible } from './merge.js';
// Identity, the mesh and the secure session.
export {
  deviceIdFromKey,
  generateIdentity,
  identityFromSeed,
  type Identity,
} from '../shared/crypto/identity.js';
export { toBase32, fromBase32, toBase64url, fromBase64url } from '../shared/crypto/bytes.js';
export { Mesh, type MeshOptions, type InviteOptions } from './mesh/mesh.js';
export { peerIdentity } from './mesh/identity.js';
export { MEMBERS, INVITES, type MemberInfo } from './mesh/member-record.js';
export {
  secureHandshake,
  type HandshakeOptions,
  type HandshakeRole,
  type SecureChannel,
} from './secure/handshake.js';
export { SecureTransport, type RemoteIdentity } from './secure/secure-transport.js';
export type { ChannelBinding } from '../shared/secure/proof.js';
// Signaling secrecy.
export { roomKeys, roomJoinProof, verifyRoomJoin, type RoomKeys } from '../shared/secure/room.js';
export {
  sealSignal,
  sealJsonSignal,
  openJsonSignal,
  SignalOpener,
  type OpenedSignal,
} from '../shared/secure/signal-seal.js';
// Tokens.
export { SingleUse } from '../shared/token/single-use.js';
export { type Endpoint } from '../shared/token/endpoint.js';
export {
  decodeInviteToken,
  encodeInviteToken,
  type InviteToken,
} from '../shared/token/invite-token.js';
// Signaling client and relay.
export {
  SignalingClient,
  type SignalingClientOptions,
  type SignalingClientEvents,
  type SignalingState,
} from './signaling/signaling-client.js';
export { RelayChannels, type RelayChannelEvents } from './signaling/relay-channels.js';
export { Backoff, type BackoffOptions } from './signaling/backoff.js';
export type { WebSocketFactory, WebSocketLike } from './signaling/socket-port.js';
export { deviceJoinProof } from '../shared/secure/room.js';
export type { AnnouncedLimits } from '../shared/signaling/messages.js';
// WebRTC: the RTC port, the data-channel transport, connections through signaling.
export type * from './rtc/rtc-port.js';
export { w3cRtc, type W3cPeerConnection, type W3cPeerConnectionClass } from './rtc/w3c-rtc.js';
export {
  DataChannelTransport,
  type DataChannelTransportOptions,
  type DataChannelStats,
} from './rtc/data-channel-transport.js';
export { sdpFacts, type SdpFacts } from './rtc/sdp-facts.js';
export { RtcAttempt, type AttemptOptions, type AttemptStage } from './rtc/rtc-attempt.js';
export {
  RtcConnector,
  type RtcConnectorOptions,
  type RtcConnectorEvents,
} from './rtc/rtc-connector.js';
export {
  parseRtcSignal,
  isInitiator,
  type RtcSignal,
  type SignalCandidate,
} from '../shared/signaling/rtc-signals.js';
// Staying connected: the mesh manager.
export { MeshManager } from './manager/mesh-manager.js';
export type * from './manager/manager-types.js';
export type { PathAttempt } from './manager/ladder.js';
export type { PathKind } from './manager/paths.js';
export { EndpointBook, readEndpointRecord, type EndpointSource } from './manager/endpoint-book.js';
export { ENDPOINTS } from './mesh/member-record.js';
