import { MeshsyncError } from '../errors.js';
import { fromBase64url, toBase64url } from '../crypto/bytes.js';
import { deviceIdFromKey } from '../crypto/identity.js';
import type { DeviceId } from '../ids.js';
import { isHostName, parseIpv4, parseIpv6 } from '../net/ip.js';
import { checkEndpoint } from './endpoint.js';
import { tokenBytes } from './envelope.js';

/** What a connection string carries: where a device listens, who it is, and maybe a token. */
export interface ConnectionInfo {
  host: string;
  port: number;
  device: DeviceId;
  publicKey: Uint8Array;
  /** A token (usually an invite) in its printed form. */
  token?: string;
}

export const MAX_CONNECTION_STRING = 4096;
const SCHEME = 'meshsync://';

function fail(problem: string): never {
  throw new MeshsyncError('BAD_TOKEN', `connection string: ${problem}`);
}

/** `meshsync://host:port?id=<device>&key=<public key>&token=<token>` for typing or pasting. */
export function formatConnectionString(info: ConnectionInfo): string {
  checkEndpoint({ host: info.host, port: info.port });
  if (deviceIdFromKey(info.publicKey) !== info.device) {
    throw new MeshsyncError('INVALID_VALUE', 'device id does not match the public key');
  }
  const host = parseIpv6(info.host) ? `[${info.host}]` : info.host;
  let text = `${SCHEME}${host}:${info.port}?id=${info.device}&key=${toBase64url(info.publicKey)}`;
  if (info.token !== undefined) {
    tokenBytes(info.token);
    text += `&token=${info.token.replace(/[\s-]/g, '')}`;
  }
  return text;
}

/**
 * Reads a connection string; throws BAD_TOKEN for a wrong scheme, a bad host or port, a missing
 * or unknown or repeated parameter, a key that does not give the id, or a malformed token.
 */
export function parseConnectionString(input: string): ConnectionInfo {
  if (typeof input !== 'string') fail('not text');
  const text = input.trim();
  if (text.length > MAX_CONNECTION_STRING) fail(`longer than ${MAX_CONNECTION_STRING}`);
  if (text.slice(0, SCHEME.length).toLowerCase() !== SCHEME) fail(`must start with ${SCHEME}`);
  const rest = text.slice(SCHEME.length);
  const query = rest.indexOf('?');
  if (query < 0) fail('no ?id=...&key=...');
  const authority = rest.slice(0, query).replace(/\/$/, '');
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]/]+)):([0-9]{1,5})$/.exec(authority);
  if (!match) fail('expected host:port');
  const host = match[1] ?? match[2]!;
  const port = Number(match[3]);
  if (match[1] !== undefined ? !parseIpv6(host) : !parseIpv4(host) && !isHostName(host)) {
    fail('bad host');
  }
  if (port < 1 || port > 65535) fail('port must be 1-65535');
  const params = new Map<string, string>();
  for (const pair of rest.slice(query + 1).split('&')) {
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    if (!['id', 'key', 'token'].includes(name)) fail(`unknown parameter "${name.slice(0, 20)}"`);
    if (params.has(name)) fail(`repeated parameter "${name}"`);
    params.set(name, eq < 0 ? '' : pair.slice(eq + 1));
  }
  const id = params.get('id');
  const key = params.get('key');
  if (id === undefined || key === undefined) fail('id and key are required');
  if (key.length !== 43) fail('key must be 43 base64url characters');
  const publicKey = fromBase64url(key, 'BAD_TOKEN', 'connection string key');
  if (deviceIdFromKey(publicKey) !== id) fail('the key does not match the device id');
  const info: ConnectionInfo = { host, port, device: id as DeviceId, publicKey };
  const token = params.get('token');
  if (token !== undefined) {
    tokenBytes(token);
    info.token = token;
  }
  return info;
}
