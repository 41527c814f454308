import type { DeviceId } from '../../../shared/ids.js';
import type { Logger } from '../../../shared/log.js';
import type { Endpoint } from '../../../shared/token/endpoint.js';
import type { EndpointSource } from '../../manager/endpoint-book.js';
import type { Mesh } from '../../mesh/mesh.js';
import type { Timers } from '../../sync/session-types.js';
import type { InterfaceTable } from './lan-interfaces.js';
import type { OpenMdnsSocket } from './mdns-socket.js';

/** Where discovered members go: a `MeshManager`. */
export interface DiscoveryTarget {
  addEndpoints(device: DeviceId, endpoints: Endpoint[], source: EndpointSource): void;
  removeEndpoints(device: DeviceId, source: EndpointSource): void;
}

export interface LanDiscoveryOptions {
  /** The mesh whose members to find: its device id and (never sent) secret. */
  mesh: Pick<Mesh, 'device' | 'meshSecret'>;
  /** The direct listener to advertise (its port; only interfaces it listens on). */
  listener?: { endpoints(): Endpoint[] };
  /** The port to advertise, when there is no `listener`. */
  port?: number;
  /** Fed with every member found (`addEndpoints(device, endpoints, 'mdns')`) and lost. */
  manager?: DiscoveryTarget;
  /**
   * Interface names or IPv4 addresses to run on (loopback too, when listed).
   * @default every non-internal IPv4 interface
   */
  interfaces?: readonly string[];
  /**
   * A device name to announce (TXT `name=`, at most 63 bytes). Off unless given: the name
   * tells everyone on the LAN whose device this is. @default undefined (no name)
   */
  announceName?: string;
  /** Seconds others may keep our records. @default 120 */
  ttlSeconds?: number;
  /** Seconds one mesh tag is used. Every member must use the same. @default 3600 */
  tagPeriodSeconds?: number;
  /** Re-announce this often after the start burst. @default half of `ttlSeconds` */
  announceIntervalMs?: number;
  /** Browse (query) this often after the start burst. @default 60_000 */
  queryIntervalMs?: number;
  /** Look for interfaces that came or went this often. @default 5_000 */
  interfaceCheckMs?: number;
  /** mDNS over multicast-dns unless replaced (tests). @default multicastDnsSocket() */
  openSocket?: OpenMdnsSocket;
  /** The interface table (tests). @default os.networkInterfaces */
  networkInterfaces?: () => InterfaceTable;
  timers?: Timers;
  now?: () => number;
  random?: () => number;
  logger?: Logger;
}

/** A member found on the LAN. */
export interface LanPeer {
  device: DeviceId;
  /** Where it answered from first, then its other on-link A records. */
  addresses: string[];
  port: number;
  /** Only when it announces one. */
  name: string | null;
  /** The interface it was heard on. */
  interface: string;
  /** ms since the epoch. */
  lastSeen: number;
  expiresAt: number;
}

/** Why a received packet (or one instance in it) was not used. */
export type IgnoredReason =
  | 'undecodable'
  | 'too-large'
  | 'too-many-records'
  | 'malformed'
  | 'other-version'
  | 'wrong-tag'
  | 'off-link';

export interface LanDiscoveryStatus {
  running: boolean;
  /** `name/address` of every interface discovery runs on now. */
  interfaces: string[];
  peers: LanPeer[];
  /** Counts of what was ignored, by reason. */
  ignored: Record<IgnoredReason, number>;
  /** Packets sent and received (all interfaces). */
  sent: number;
  received: number;
  /** The last socket error, if any. */
  lastError: string | null;
}

export type LostReason = 'goodbye' | 'expired' | 'interface-gone' | 'stopped';

export interface LanDiscoveryEvents extends Record<string, unknown> {
  /** A member appeared, or its address or port changed. */
  found: LanPeer;
  lost: { device: DeviceId; reason: LostReason };
}
