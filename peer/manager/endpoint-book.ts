import { MeshsyncError } from '../../shared/errors.js';
import { isDeviceId, type DeviceId } from '../../shared/ids.js';
import type { JsonObject, JsonValue } from '../../shared/json.js';
import { parseConnectionString } from '../../shared/token/connection-string.js';
import { checkEndpoint, MAX_ENDPOINTS, type Endpoint } from '../../shared/token/endpoint.js';
import { decodeInviteToken } from '../../shared/token/invite-token.js';
import { decodeOfferToken, tokenKind } from '../../shared/token/offer-token.js';
import { ENDPOINTS } from '../mesh/member-record.js';
import type { Peer } from '../peer.js';

/** Where a device's direct endpoints came from (for status). */
export type EndpointSource =
  'mesh' | 'signaling' | 'connection-string' | 'token' | 'manual' | 'mdns';

interface Entry {
  endpoints: Endpoint[];
  source: EndpointSource;
}

const sameEndpoint = (a: Endpoint, b: Endpoint): boolean =>
  a.host === b.host && a.port === b.port && (a.tls ?? false) === (b.tls ?? false);

/**
 * Reads a device's `_mesh.endpoints` record. It came through sync, so it is checked like wire
 * input: anything malformed is left out (a record with nothing usable gives no endpoints).
 */
export function readEndpointRecord(value: JsonObject | null): Endpoint[] {
  const list = value?.endpoints;
  if (!Array.isArray(list)) return [];
  const out: Endpoint[] = [];
  for (const item of list.slice(0, MAX_ENDPOINTS)) {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) continue;
    const { host, port, tls } = item;
    if (typeof host !== 'string' || typeof port !== 'number') continue;
    if (tls !== undefined && typeof tls !== 'boolean') continue;
    try {
      out.push(checkEndpoint(tls ? { host, port, tls } : { host, port }));
    } catch {
      // not an address or a port: skip it
    }
  }
  return out;
}

/** The record a device writes about itself. */
export function endpointRecord(endpoints: readonly Endpoint[], at: number): JsonObject {
  const list: JsonValue[] = endpoints.slice(0, MAX_ENDPOINTS).map((e) => {
    const item: JsonObject = { host: e.host, port: e.port };
    if (e.tls) item.tls = true;
    return item;
  });
  return { endpoints: list, at };
}

/**
 * Every direct endpoint known per device, from every source: the mesh's synced `_mesh.endpoints`
 * records (each device publishes its listener there), sealed `where` signals through the
 * signaling server, connection strings, invite and offer tokens, mDNS, or the application. Manual sources come first when dialing.
 */
export class EndpointBook {
  private readonly entries = new Map<DeviceId, Entry[]>();

  /** Adds endpoints for `device` from `source` (replacing what that source said before). */
  set(device: DeviceId, endpoints: readonly Endpoint[], source: EndpointSource): boolean {
    const checked = endpoints.slice(0, MAX_ENDPOINTS).map((e) => checkEndpoint({ ...e }));
    const list = (this.entries.get(device) ?? []).filter((e) => e.source !== source);
    if (checked.length > 0) list.push({ endpoints: checked, source });
    list.sort((a, b) => rank(a.source) - rank(b.source));
    const before = this.get(device);
    if (list.length === 0) this.entries.delete(device);
    else this.entries.set(device, list);
    const after = this.get(device);
    return before.length !== after.length || before.some((e, k) => !sameEndpoint(e, after[k]!));
  }

  /** Every endpoint of `device`, without repeats, in dialing order. */
  get(device: DeviceId): Endpoint[] {
    const out: Endpoint[] = [];
    for (const entry of this.entries.get(device) ?? []) {
      for (const e of entry.endpoints) if (!out.some((o) => sameEndpoint(o, e))) out.push(e);
    }
    return out;
  }

  sources(device: DeviceId): EndpointSource[] {
    return (this.entries.get(device) ?? []).map((e) => e.source);
  }

  devices(): DeviceId[] {
    return [...this.entries.keys()];
  }

  /** `meshsync://host:port?id=...&key=...`: the device and where it listens. */
  addConnectionString(text: string): DeviceId {
    const info = parseConnectionString(text);
    this.set(info.device, [{ host: info.host, port: info.port }], 'connection-string');
    return info.device;
  }

  /** An invite or offer token: the device that made it and the endpoints it carries. */
  addToken(text: string, now = Date.now()): DeviceId {
    const kind = tokenKind(text);
    if (kind !== 'invite' && kind !== 'offer') {
      throw new MeshsyncError('BAD_TOKEN', `a ${kind} token names no endpoints of its maker`);
    }
    const token = kind === 'offer' ? decodeOfferToken(text, now) : decodeInviteToken(text, now);
    this.set(token.signer.device, token.endpoints, 'token');
    return token.signer.device;
  }

  /** Loads every device's published record and follows changes; returns the unsubscribe. */
  async follow(peer: Peer, onChange: (device: DeviceId) => void): Promise<() => void> {
    const collection = peer.collection(ENDPOINTS);
    const off = collection.subscribe((change) => {
      if (!isDeviceId(change.id) || change.id === peer.device) return;
      if (this.set(change.id, readEndpointRecord(change.value), 'mesh')) onChange(change.id);
    });
    for (const { id, value } of await collection.list({ limit: 10_000 })) {
      if (isDeviceId(id) && id !== peer.device) this.set(id, readEndpointRecord(value), 'mesh');
    }
    return off;
  }
}

function rank(source: EndpointSource): number {
  return ['manual', 'connection-string', 'token', 'signaling', 'mdns', 'mesh'].indexOf(source);
}
