import { parseIpv4, parseIpv6 } from '../../shared/net/ip.js';

/**
 * True for a source address on the local network: loopback (127/8, ::1), private (RFC 1918,
 * fc00::/7), link-local (169.254/16, fe80::/10), and the IPv4-mapped IPv6 forms of these.
 * Anything else, and anything that is not an address, is false. A zone id (`fe80::1%eth0`) is
 * ignored.
 */
export function isLocalAddress(address: string): boolean {
  const text = address.replace(/%[A-Za-z0-9_.-]+$/, '');
  const v4 = parseIpv4(text);
  if (v4) return isLocalIpv4(v4);
  const v6 = parseIpv6(text);
  if (!v6) return false;
  const mapped = v6.subarray(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff;
  if (mapped) return isLocalIpv4(v6.subarray(12));
  const loopback = v6.subarray(0, 15).every((b) => b === 0) && v6[15] === 1;
  const first = v6[0]!;
  const second = v6[1]!;
  return loopback || (first & 0xfe) === 0xfc || (first === 0xfe && (second & 0xc0) === 0x80);
}

function isLocalIpv4(bytes: Uint8Array): boolean {
  const a = bytes[0]!;
  const b = bytes[1]!;
  return (
    a === 127 || // loopback
    a === 10 ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 169 && b === 254) // link-local
  );
}
