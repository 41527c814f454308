import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import type { Endpoint } from '../../shared/token/endpoint.js';
import { isLocalAddress } from './address-filter.js';

/**
 * How other devices reach a listener bound to `host`: that address itself, or for a wildcard
 * (`0.0.0.0`, `::`) the machine's interface addresses (IPv4 only for `0.0.0.0`), IPv4 first.
 * Loopback and IPv6 link-local addresses are left out (no other device can use them), and with
 * `localOnly` so is every address that is not local (a listener that refuses public sources
 * has no use for public endpoints).
 */
export function listenerEndpoints(
  host: string,
  port: number,
  localOnly: boolean,
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): Endpoint[] {
  if (host !== '0.0.0.0' && host !== '::') return [{ host, port }];
  const found: Endpoint[] = [];
  for (const list of Object.values(interfaces)) {
    for (const info of list ?? []) {
      if (info.internal || (host === '0.0.0.0' && info.family !== 'IPv4')) continue;
      if (info.family === 'IPv6' && /^fe[89ab]/i.test(info.address)) continue;
      if (localOnly && !isLocalAddress(info.address)) continue;
      if (!found.some((e) => e.host === info.address)) found.push({ host: info.address, port });
    }
  }
  return found.sort((x, y) => Number(x.host.includes(':')) - Number(y.host.includes(':')));
}
