/**
 * Strict text <-> bytes conversions for IP addresses: IPv4 dotted quads, IPv6 (RFC 4291 input,
 * RFC 5952 canonical output), and a host-name check. Isomorphic: no Node `net`, no Buffer.
 */

/** Strict IPv4 text (four decimal octets, no leading zeros) to 4 bytes, or null. */
export function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i] ?? '';
    if (!/^(?:0|[1-9][0-9]{0,2})$/.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

/** Dotted-quad text of 4 bytes. */
export function formatIpv4(bytes: Uint8Array): string {
  if (bytes.length !== 4) throw new RangeError(`IPv4 needs 4 bytes, got ${bytes.length}`);
  return Array.from(bytes).join('.');
}

/** 16-bit groups of one side of `::`, with an optional dotted IPv4 tail; null when malformed. */
function parseGroups(text: string, allowV4Tail: boolean): number[] | null {
  if (text === '') return [];
  const parts = text.split(':');
  const out: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] ?? '';
    if (allowV4Tail && i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIpv4(part);
      if (!v4) return null;
      out.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
    } else {
      if (!/^[0-9A-Fa-f]{1,4}$/.test(part)) return null;
      out.push(parseInt(part, 16));
    }
  }
  return out;
}

/** Strict IPv6 text (`::` at most once, optional IPv4 tail, no zone id) to 16 bytes, or null. */
export function parseIpv6(text: string): Uint8Array | null {
  if (text.length < 2 || text.length > 45 || !/^[0-9A-Fa-f:.]+$/.test(text)) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  let groups: number[];
  if (halves.length === 2) {
    const head = parseGroups(halves[0] ?? '', false);
    const tail = parseGroups(halves[1] ?? '', true);
    if (!head || !tail || head.length + tail.length > 7) return null;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    const all = parseGroups(text, true);
    if (!all || all.length !== 8) return null;
    groups = all;
  }
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/** RFC 5952 text of 16 bytes: lower case, longest zero run as `::`, IPv4-mapped as `::ffff:a.b.c.d`. */
export function formatIpv6(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new RangeError(`IPv6 needs 16 bytes, got ${bytes.length}`);
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${formatIpv4(bytes.subarray(12, 16))}`;
  }
  let bestStart = -1;
  let bestLength = 1; // a single zero group is never shortened
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (list: number[]): string => list.map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

/**
 * A DNS host name (letters, digits, hyphens, dots; labels of 1-63). The last label is not all
 * digits, so a mistyped address such as 10.0.0.256 is not taken for a name.
 */
export function isHostName(text: string): boolean {
  return (
    text.length <= 253 &&
    !/(^|\.)[0-9]+$/.test(text) &&
    /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(
      text,
    )
  );
}
