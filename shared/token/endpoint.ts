import { formatIpv4, formatIpv6, isHostName, parseIpv4, parseIpv6 } from '../net/ip.js';
import { MeshsyncError } from '../errors.js';
import type { ByteReader, ByteWriter } from './binary.js';

/** Where a device listens for direct connections (WebSocket and HTTP on one port). */
export interface Endpoint {
  /** IPv4 or IPv6 address text, or a host name. */
  host: string;
  port: number;
  /** wss:// and https:// rather than ws:// and http://. @default false */
  tls?: boolean;
}

export const MAX_ENDPOINTS = 4;
const FAMILY = { ipv4: 0, ipv6: 1, name: 2 } as const;

/** Checks an endpoint given by the application; throws INVALID_VALUE. */
export function checkEndpoint(endpoint: Endpoint): Endpoint {
  const { host, port } = endpoint;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new MeshsyncError('INVALID_VALUE', `endpoint port must be 1-65535, got ${port}`);
  }
  if (typeof host !== 'string' || (!parseIpv4(host) && !parseIpv6(host) && !isHostName(host))) {
    throw new MeshsyncError('INVALID_VALUE', `endpoint host is not an address or host name`);
  }
  return endpoint;
}

export function writeEndpoints(w: ByteWriter, endpoints: readonly Endpoint[]): void {
  if (endpoints.length > MAX_ENDPOINTS) {
    throw new MeshsyncError('INVALID_VALUE', `at most ${MAX_ENDPOINTS} endpoints`);
  }
  w.u8(endpoints.length);
  for (const e of endpoints) {
    checkEndpoint(e);
    const tls = e.tls ? 4 : 0;
    const v4 = parseIpv4(e.host);
    const v6 = v4 ? null : parseIpv6(e.host);
    if (v4) w.u8(FAMILY.ipv4 | tls).bytes(v4);
    else if (v6) w.u8(FAMILY.ipv6 | tls).bytes(v6);
    else w.u8(FAMILY.name | tls).shortText(e.host);
    w.u16(e.port);
  }
}

export function readEndpoints(r: ByteReader): Endpoint[] {
  const count = r.u8('endpoints');
  if (count > MAX_ENDPOINTS) r.fail('endpoints', `${count} endpoints (at most ${MAX_ENDPOINTS})`);
  const out: Endpoint[] = [];
  for (let i = 0; i < count; i++) {
    const flags = r.u8('endpoint flags');
    if (flags & ~7) r.fail('endpoint flags', `unknown flags ${flags}`);
    const family = flags & 3;
    let host: string;
    if (family === FAMILY.ipv4) host = formatIpv4(r.bytes(4, 'endpoint address'));
    else if (family === FAMILY.ipv6) host = formatIpv6(r.bytes(16, 'endpoint address'));
    else if (family === FAMILY.name) {
      host = r.shortText('endpoint host', /^[A-Za-z0-9.-]+$/, 1, 253);
      if (!isHostName(host)) r.fail('endpoint host', 'not a host name');
    } else r.fail('endpoint flags', `unknown address family ${family}`);
    const port = r.u16('endpoint port');
    if (port === 0) r.fail('endpoint port', 'port 0');
    out.push(flags & 4 ? { host, port, tls: true } : { host, port });
  }
  return out;
}
