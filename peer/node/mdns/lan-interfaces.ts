import type { NetworkInterfaceInfo } from 'node:os';
import { parseIpv4 } from '../../../shared/net/ip.js';

/** One IPv4 address of one network interface that discovery runs on. */
export interface LanInterface {
  /** The interface's name (`eth0`). */
  name: string;
  address: string;
  netmask: string;
}

export type InterfaceTable = NodeJS.Dict<NetworkInterfaceInfo[]>;

/**
 * The interfaces to run on: with no `chosen` list, every non-internal IPv4 address; with one,
 * the addresses whose interface name or address is listed (loopback too, when listed). One
 * address per interface (the first), since a multicast membership is per interface. IPv6 is left
 * out: link-local addresses need a zone to be dialed, and IPv4 reaches every LAN peer meshsync
 * targets (PROTOCOL.md section 24).
 */
export function pickInterfaces(table: InterfaceTable, chosen?: readonly string[]): LanInterface[] {
  const out: LanInterface[] = [];
  for (const [name, list] of Object.entries(table)) {
    for (const info of list ?? []) {
      if (info.family !== 'IPv4' || !parseIpv4(info.address) || !parseIpv4(info.netmask)) continue;
      const wanted = chosen
        ? chosen.includes(name) || chosen.includes(info.address)
        : !info.internal;
      if (!wanted) continue;
      out.push({ name, address: info.address, netmask: info.netmask });
      break;
    }
  }
  return out;
}

/** A stable key for an interface address (a change of either is a new interface). */
export const interfaceKey = (i: LanInterface): string => `${i.name}/${i.address}/${i.netmask}`;

/** True when `address` is on `iface`'s subnet (RFC 6762 section 11's source address check). */
export function onLink(iface: LanInterface, address: string): boolean {
  const a = parseIpv4(address);
  const b = parseIpv4(iface.address);
  const mask = parseIpv4(iface.netmask);
  if (!a || !b || !mask) return false;
  for (let i = 0; i < 4; i++) if ((a[i]! & mask[i]!) !== (b[i]! & mask[i]!)) return false;
  return true;
}
