import type { Answer, Question } from 'dns-packet';

/**
 * The DNS-SD records a device announces on the LAN (PROTOCOL.md section 24), as dns-packet
 * objects. Pure: building them does no I/O.
 */

/** The service type every meshsync device advertises and browses. */
export const SERVICE_TYPE = '_meshsync._tcp.local';
/** DNS-SD service enumeration: answered so generic browsers can list the service type. */
export const SERVICE_ENUMERATION = '_services._dns-sd._udp.local';
/** The TXT record format's version (`v=`). */
export const TXT_VERSION = '1';
/** The longest device name announced (`name=`), in UTF-8 bytes. */
export const MAX_NAME_BYTES = 63;

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/g;

/** What one device announces on one interface. */
export interface LocalService {
  device: string;
  /** The direct listener's port. */
  port: number;
  /** The mesh tag of the current period (`shared/discovery/mesh-tag.ts`). */
  tag: string;
  /** The device's name, only when the user allowed announcing it. */
  name?: string;
  /** This interface's IPv4 address (the A record). */
  address: string;
  /** Seconds the records may be cached; 0 is a goodbye. */
  ttl: number;
}

/** `<device>._meshsync._tcp.local`. */
export const instanceName = (device: string): string => `${device}.${SERVICE_TYPE}`;

/** The SRV target: a host name of our own, so it never clashes with the machine's. */
export const hostName = (device: string): string => `meshsync-${device}.local`;

/** The TXT strings: `v`, `id`, `port`, `tag`, and `name` only when given. */
export function txtStrings(service: LocalService): string[] {
  const out = [
    `v=${TXT_VERSION}`,
    `id=${service.device}`,
    `port=${service.port}`,
    `tag=${service.tag}`,
  ];
  if (service.name !== undefined) {
    out.push(`name=${truncateUtf8(service.name.replace(CONTROL_CHARS, ''), MAX_NAME_BYTES)}`);
  }
  return out;
}

/** PTR, SRV, TXT and A: the whole announcement (with `ttl` 0, the goodbye). */
export function serviceRecords(service: LocalService): Answer[] {
  const { device, port, address, ttl } = service;
  const instance = instanceName(device);
  const host = hostName(device);
  return [
    { name: SERVICE_TYPE, type: 'PTR', ttl, data: instance },
    { name: instance, type: 'SRV', ttl, flush: true, data: { port, target: host } },
    { name: instance, type: 'TXT', ttl, flush: true, data: txtStrings(service) },
    { name: host, type: 'A', ttl, flush: true, data: address },
  ];
}

/** The answer to a service enumeration query. */
export function enumerationRecord(ttl: number): Answer {
  return { name: SERVICE_ENUMERATION, type: 'PTR', ttl, data: SERVICE_TYPE };
}

/** A browse: who offers `_meshsync._tcp.local`? */
export function browseQuestions(): Question[] {
  return [{ name: SERVICE_TYPE, type: 'PTR' }];
}

/** The longest prefix of `text` within `max` UTF-8 bytes, never splitting a character. */
function truncateUtf8(text: string, max: number): string {
  let out = '';
  let bytes = 0;
  for (const char of text) {
    const size = new TextEncoder().encode(char).length;
    if (bytes + size > max) break;
    out += char;
    bytes += size;
  }
  return out;
}
