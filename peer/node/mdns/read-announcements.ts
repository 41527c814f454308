import { isDeviceId, type DeviceId } from '../../../shared/ids.js';
import { MESH_TAG_PATTERN } from '../../../shared/discovery/mesh-tag.js';
import { parseIpv4 } from '../../../shared/net/ip.js';
import {
  MAX_NAME_BYTES,
  SERVICE_ENUMERATION,
  SERVICE_TYPE,
  TXT_VERSION,
  instanceName,
  hostName,
} from './service-records.js';

/**
 * Reads what a decoded mDNS packet (dns-packet's object, or anything at all) says about
 * `_meshsync._tcp` instances, checking every field it uses: types, name lengths, record counts,
 * TXT sizes and keys, ports, addresses, TTLs. Nothing here throws on bad input: a packet that
 * breaks a packet-wide limit is refused whole, an instance with a bad field is left out and
 * counted, and records about other services are not looked at.
 */

/** A packet bigger than this is ignored (RFC 6762 section 17). */
export const MAX_PACKET_BYTES = 9000;
/** Records (answers, authorities and additionals together) in one packet. */
export const MAX_RECORDS = 64;
/** Questions in one query. */
export const MAX_QUESTIONS = 32;
/** `_meshsync._tcp` instances read from one packet; more are left out. */
export const MAX_INSTANCES = 16;
/** TXT strings in one record, and their total size in bytes. */
export const MAX_TXT_STRINGS = 16;
export const MAX_TXT_BYTES = 1024;
/** A records taken per instance. */
export const MAX_ADDRESSES = 8;
/** TTLs above this (seconds) are treated as this (DNS-SD's PTR TTL). */
export const MAX_TTL = 4500;
const MAX_NAME_LENGTH = 255;

/** One device's announcement, every field checked; the tag is not yet checked against a mesh. */
export interface Announcement {
  device: DeviceId;
  port: number;
  tag: string;
  /** Only when the device announces it. */
  name: string | null;
  /** IPv4 addresses of its A records (unchecked against the link). */
  addresses: string[];
  /** Seconds to keep it; 0 is a goodbye. */
  ttl: number;
}

export interface ReadResult {
  announcements: Announcement[];
  /** Instances left out: a missing, malformed or conflicting field. */
  malformed: number;
  /** Instances of another TXT format version (`v=`), left out. */
  otherVersion: number;
}

/** Why a whole packet was refused. */
export type PacketRefusal = 'not-a-packet' | 'too-many-records';

interface RecordLike {
  name: string;
  type: string;
  ttl: number;
  data: unknown;
}

const SERVICE_SUFFIX = `.${SERVICE_TYPE}`;

/** The announcements in a response packet, or why it is refused as a whole. */
export function readAnnouncements(packet: unknown): ReadResult | PacketRefusal {
  if (!isObject(packet) || packet.type !== 'response') return 'not-a-packet';
  const lists = [packet.answers, packet.authorities, packet.additionals];
  let count = 0;
  for (const list of lists) {
    if (list === undefined) continue;
    if (!Array.isArray(list)) return 'not-a-packet';
    count += list.length;
  }
  if (count > MAX_RECORDS) return 'too-many-records';
  const records: RecordLike[] = [];
  for (const list of lists) {
    for (const item of (list as unknown[] | undefined) ?? []) {
      const record = asRecord(item);
      if (record) records.push(record);
    }
  }
  const result: ReadResult = { announcements: [], malformed: 0, otherVersion: 0 };
  const instances = new Set<string>();
  for (const r of records) {
    const lower = r.name.toLowerCase();
    if (r.type === 'PTR' && lower === SERVICE_TYPE && typeof r.data === 'string') {
      instances.add(r.data.toLowerCase());
    } else if ((r.type === 'TXT' || r.type === 'SRV') && lower.endsWith(SERVICE_SUFFIX)) {
      instances.add(lower);
    }
  }
  let seen = 0;
  for (const instance of instances) {
    if (++seen > MAX_INSTANCES) {
      result.malformed++;
      continue;
    }
    const read = readInstance(instance, records);
    if (read === 'malformed') result.malformed++;
    else if (read === 'other-version') result.otherVersion++;
    else result.announcements.push(read);
  }
  return result;
}

/** True for a query that asks for our service, its enumeration, or `device`'s own names. */
export function asksForService(packet: unknown, device: string): boolean {
  if (!isObject(packet) || packet.type !== 'query' || !Array.isArray(packet.questions)) {
    return false;
  }
  const questions: unknown[] = packet.questions;
  if (questions.length > MAX_QUESTIONS) return false;
  const ours = [SERVICE_TYPE, SERVICE_ENUMERATION, instanceName(device), hostName(device)];
  return questions.some(
    (q) =>
      isObject(q) &&
      typeof q.name === 'string' &&
      q.name.length <= MAX_NAME_LENGTH &&
      ours.includes(q.name.toLowerCase()),
  );
}

function readInstance(
  instance: string,
  records: readonly RecordLike[],
): Announcement | 'malformed' | 'other-version' {
  const label = instance.slice(0, -SERVICE_SUFFIX.length);
  if (!instance.endsWith(SERVICE_SUFFIX) || label.length === 0 || label.length > 63) {
    return 'malformed';
  }
  const mine = records.filter((r) => r.name.toLowerCase() === instance);
  const txts = mine.filter((r) => r.type === 'TXT');
  const srvs = mine.filter((r) => r.type === 'SRV');
  if (txts.length !== 1 || srvs.length > 1) return 'malformed';
  const txt = readTxt(txts[0]!.data);
  if (txt === null) return 'malformed';
  if (txt.get('v') !== TXT_VERSION) return txt.has('v') ? 'other-version' : 'malformed';
  const device = txt.get('id');
  const portText = txt.get('port');
  const tag = txt.get('tag');
  const name = txt.get('name') ?? null;
  if (!isDeviceId(device) || device.length > 63 || device.toLowerCase() !== label) {
    return 'malformed';
  }
  if (portText === undefined || !/^[1-9][0-9]{0,4}$/.test(portText)) return 'malformed';
  const port = Number(portText);
  if (port > 65535 || tag === undefined || !MESH_TAG_PATTERN.test(tag)) return 'malformed';
  if (name !== null && (CONTROL_CHARS.test(name) || utf8Length(name) > MAX_NAME_BYTES)) {
    return 'malformed';
  }
  const addresses: string[] = [];
  let ttl = txts[0]!.ttl;
  const srv = srvs[0];
  if (srv) {
    const data = srv.data;
    if (!isObject(data) || data.port !== port || typeof data.target !== 'string') {
      return 'malformed';
    }
    const target = data.target.toLowerCase();
    if (target.length === 0 || target.length > MAX_NAME_LENGTH) return 'malformed';
    ttl = Math.min(ttl, srv.ttl);
    for (const r of records) {
      if (r.type !== 'A' || r.name.toLowerCase() !== target) continue;
      if (typeof r.data !== 'string' || !parseIpv4(r.data)) return 'malformed';
      if (addresses.length < MAX_ADDRESSES && !addresses.includes(r.data)) addresses.push(r.data);
    }
  }
  return { device, port, tag, name, addresses, ttl: Math.min(ttl, MAX_TTL) };
}

/** TXT strings to a key -> value map, or null when malformed (sizes, keys, repeats, UTF-8). */
function readTxt(data: unknown): Map<string, string> | null {
  if (!Array.isArray(data) || data.length === 0 || data.length > MAX_TXT_STRINGS) return null;
  const out = new Map<string, string>();
  let total = 0;
  for (const item of data as unknown[]) {
    if (!(item instanceof Uint8Array) || item.length > 255) return null;
    total += item.length;
    if (total > MAX_TXT_BYTES) return null;
    let text: string;
    try {
      text = STRICT_UTF8.decode(item);
    } catch {
      return null;
    }
    const eq = text.indexOf('=');
    const key = (eq < 0 ? text : text.slice(0, eq)).toLowerCase();
    if (!/^[a-z0-9-]{1,9}$/.test(key) || out.has(key)) return null;
    out.set(key, eq < 0 ? '' : text.slice(eq + 1));
  }
  return out;
}

function asRecord(item: unknown): RecordLike | null {
  if (!isObject(item)) return null;
  const { name, type, ttl, data } = item;
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH) return null;
  if (typeof type !== 'string' || typeof ttl !== 'number') return null;
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > 0x7fffffff) return null;
  return { name, type, ttl, data };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
const utf8Length = (text: string): number => new TextEncoder().encode(text).length;
