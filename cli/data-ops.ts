import type { Mesh } from '../peer/mesh/mesh.js';
import { MeshsyncError } from '../shared/errors.js';
import type { JsonObject, JsonValue } from '../shared/json.js';
import { toBase64url } from '../shared/crypto/bytes.js';
import type { Endpoint } from '../shared/token/endpoint.js';
import { MAX_ENDPOINTS } from '../shared/token/endpoint.js';
import { formatConnectionString } from '../shared/token/connection-string.js';
import type { ControlRequest } from './control-protocol.js';

/**
 * The operations behind the data and device commands, on an open device. The same code runs in
 * the running peer (requests from its control socket) and in a command that opened the store
 * itself, so both paths answer alike.
 */
export interface OpContext {
  mesh: Mesh;
  /** Where this device listens (for invites and connection strings). */
  endpoints: () => Endpoint[];
  /** The running peer's status (only a running peer has one). */
  status?: () => JsonValue;
}

const PAGE = 1000;

export async function performOp(ctx: OpContext, request: ControlRequest): Promise<JsonValue> {
  const { peer } = ctx.mesh;
  switch (request.op) {
    case 'status':
      if (!ctx.status) throw new MeshsyncError('PROTOCOL_STATE', 'no running peer here');
      return ctx.status();
    case 'put': {
      const value = request.value;
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new MeshsyncError('INVALID_VALUE', 'a record is a JSON object');
      }
      const collection = peer.collection(request.collection);
      return request.patch
        ? await collection.patch(request.id, value)
        : await collection.put(request.id, value);
    }
    case 'get': {
      const value = await peer.collection(request.collection).get(request.id);
      if (value === null) {
        throw new MeshsyncError('NOT_FOUND', `no record ${request.id} in ${request.collection}`);
      }
      return value;
    }
    case 'ls':
      return list(ctx.mesh, request.collection, request.after, request.limit);
    case 'rm': {
      if (!(await peer.collection(request.collection).delete(request.id))) {
        throw new MeshsyncError('NOT_FOUND', `no record ${request.id} in ${request.collection}`);
      }
      return { deleted: request.id };
    }
    case 'devices':
      return devices(ctx.mesh);
    case 'revoke':
      await ctx.mesh.revoke(request.device);
      return { revoked: request.device };
    case 'invite':
      return invite(ctx, request.ttlMs);
  }
}

async function list(
  mesh: Mesh,
  name: string,
  after: string | undefined,
  limit = Number.MAX_SAFE_INTEGER,
): Promise<JsonValue> {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new MeshsyncError('INVALID_OPTION', 'limit must be a whole number of at least 1');
  }
  const out: JsonObject[] = [];
  let cursor = after;
  while (out.length < limit) {
    const want = Math.min(PAGE, limit - out.length);
    const page = await mesh.peer
      .collection(name)
      .list({ limit: want, ...(cursor !== undefined ? { after: cursor } : {}) });
    for (const { id, value } of page) out.push({ id, value });
    if (page.length < want) break;
    cursor = page[page.length - 1]!.id;
  }
  return out;
}

async function devices(mesh: Mesh): Promise<JsonValue> {
  return (await mesh.members()).map((m) => ({
    device: m.device,
    name: m.name,
    self: m.device === mesh.device,
    addedBy: m.addedBy,
    addedAt: new Date(m.addedAt).toISOString(),
    ...(m.revokedAt !== undefined
      ? { revokedAt: new Date(m.revokedAt).toISOString(), revokedBy: m.revokedBy ?? null }
      : {}),
  }));
}

async function invite(ctx: OpContext, ttlMs: number | undefined): Promise<JsonValue> {
  const endpoints = ctx.endpoints().slice(0, MAX_ENDPOINTS);
  const token = await ctx.mesh.invite({ endpoints, ...(ttlMs !== undefined ? { ttlMs } : {}) });
  const first = endpoints[0];
  const connectionString = first
    ? formatConnectionString({
        host: first.host,
        port: first.port,
        device: ctx.mesh.device,
        publicKey: ctx.mesh.identity.publicKey,
        token,
      })
    : null;
  return {
    token,
    connectionString,
    endpoints: endpoints.map((e) => ({ host: e.host, port: e.port })),
    device: ctx.mesh.device,
    key: toBase64url(ctx.mesh.identity.publicKey),
  };
}
