import type { Emitter } from '../../../shared/emitter.js';
import type { DeviceId } from '../../../shared/ids.js';
import type { Logger } from '../../../shared/log.js';
import { MAX_ENDPOINTS } from '../../../shared/token/endpoint.js';
import type {
  DiscoveryTarget,
  LanDiscoveryEvents,
  LanPeer,
  LostReason,
} from './discovery-types.js';
import { onLink, type LanInterface } from './lan-interfaces.js';
import type { Announcement } from './read-announcements.js';

/** An unchanged member is fed to the manager again at most this often (a nudge to reconnect). */
const FEED_REFRESH_MS = 2000;

/** A found member, with when it was last fed to the manager and the interface it was heard on. */
type Found = LanPeer & { fedAt: number; via: string };

/**
 * The members found on the LAN (announcements whose mesh tag was already checked): keeps each
 * until its goodbye or TTL, feeds the manager with new and changed ones (and, at most every
 * 2 s, unchanged ones again), and tells the manager to forget the ones lost.
 */
export class MemberTable {
  private readonly found = new Map<DeviceId, Found>();

  constructor(
    private readonly emitter: Emitter<LanDiscoveryEvents>,
    private readonly manager: DiscoveryTarget | undefined,
    private readonly log: Logger,
  ) {}

  /** A valid announcement from `from`, heard on `iface` (`key` identifies it). */
  take(a: Announcement, from: string, iface: LanInterface, key: string, now: number): void {
    if (a.ttl === 0) return this.lose(a.device, 'goodbye');
    const addresses = [from];
    for (const address of a.addresses) {
      if (onLink(iface, address) && !addresses.includes(address)) addresses.push(address);
    }
    addresses.splice(MAX_ENDPOINTS);
    const before = this.found.get(a.device);
    const changed =
      !before || before.port !== a.port || before.addresses.join() !== addresses.join();
    const feed = changed || now - before.fedAt >= FEED_REFRESH_MS;
    const peer: Found = {
      device: a.device,
      addresses,
      port: a.port,
      name: a.name,
      interface: `${iface.name}/${iface.address}`,
      lastSeen: now,
      expiresAt: now + a.ttl * 1000,
      fedAt: feed ? now : before.fedAt,
      via: key,
    };
    this.found.set(a.device, peer);
    if (feed) {
      const endpoints = addresses.map((host) => ({ host, port: a.port }));
      this.manager?.addEndpoints(a.device, endpoints, 'mdns');
    }
    if (changed) {
      this.log.info('lan discovery: found', { device: a.device, addresses, port: a.port });
      this.emitter.emit('found', publicPeer(peer));
    }
  }

  lose(device: DeviceId, reason: LostReason): void {
    if (!this.found.delete(device)) return;
    this.manager?.removeEndpoints(device, 'mdns');
    this.log.info('lan discovery: lost', { device, reason });
    this.emitter.emit('lost', { device, reason });
  }

  /** Loses every member whose records expired by `now`. */
  sweep(now: number): void {
    for (const peer of [...this.found.values()]) {
      if (peer.expiresAt <= now) this.lose(peer.device, 'expired');
    }
  }

  /** Loses every member heard on the interface `key` (it went away). */
  dropVia(key: string): void {
    for (const peer of [...this.found.values()]) {
      if (peer.via === key) this.lose(peer.device, 'interface-gone');
    }
  }

  clear(reason: LostReason): void {
    for (const device of [...this.found.keys()]) this.lose(device, reason);
  }

  list(): LanPeer[] {
    return [...this.found.values()].map(publicPeer);
  }
}

function publicPeer(peer: Found): LanPeer {
  return {
    device: peer.device,
    addresses: [...peer.addresses],
    port: peer.port,
    name: peer.name,
    interface: peer.interface,
    lastSeen: peer.lastSeen,
    expiresAt: peer.expiresAt,
  };
}
