/**
 * Strict text <-> bytes conversions for the addresses an ICE candidate may carry: IPv4 dotted
 * quads, IPv6 (RFC 4291 input, RFC 5952 canonical output) and Chromium's mDNS names
 * `<uuid>.local`. Isomorphic: no Node `net`, no Buffer.
 */

import { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from '../net/ip.js';

export { formatIpv4, formatIpv6, parseIpv4, parseIpv6 };

const UUID_LOCAL =
  /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})\.local$/i;

/** The 16 bytes of an mDNS candidate name `<uuid>.local` (any case), or null. */
export function parseMdnsUuid(text: string): Uint8Array | null {
  const m = UUID_LOCAL.exec(text);
  if (!m) return null;
  const hex = m.slice(1).join('');
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** The canonical (lower-case) `<uuid>.local` name of 16 bytes. */
export function formatMdnsUuid(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new RangeError(`a UUID needs 16 bytes, got ${bytes.length}`);
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  const cut = [0, 8, 12, 16, 20, 32].map((n, i, all) => hex.slice(n, all[i + 1]));
  return `${cut.slice(0, 5).join('-')}.local`;
}

/** The kind of address a compact candidate carries, as stored in the binary form. */
export type AddressFamily = 'ipv4' | 'ipv6' | 'mdns';

/** A candidate address as its family and bytes (4 or 16), or null when not one we carry. */
export function addressToBytes(text: string): { family: AddressFamily; bytes: Uint8Array } | null {
  const v4 = parseIpv4(text);
  if (v4) return { family: 'ipv4', bytes: v4 };
  const v6 = parseIpv6(text);
  if (v6) return { family: 'ipv6', bytes: v6 };
  const uuid = parseMdnsUuid(text);
  if (uuid) return { family: 'mdns', bytes: uuid };
  return null;
}

/** The canonical text of an address of `family`. */
export function addressFromBytes(family: AddressFamily, bytes: Uint8Array): string {
  if (family === 'ipv4') return formatIpv4(bytes);
  if (family === 'ipv6') return formatIpv6(bytes);
  return formatMdnsUuid(bytes);
}

/** True for 0.0.0.0 and `::`: no peer can reach such a candidate. */
export function isUnspecified(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 0);
}
