import { MeshsyncError } from '../shared/errors.js';
import type { JsonValue } from '../shared/json.js';

/**
 * The control socket's protocol: one JSON request per connection, one line each way.
 * `{"op":"put","collection":"tasks","id":"t1","value":{...}}` ->
 * `{"ok":true,"result":...}` or `{"ok":false,"error":{"code":"NOT_FOUND","message":"..."}}`.
 */
export type ControlRequest =
  | { op: 'status' }
  | { op: 'put'; collection: string; id: string; value: JsonValue; patch: boolean }
  | { op: 'get'; collection: string; id: string }
  | { op: 'ls'; collection: string; after?: string; limit?: number }
  | { op: 'rm'; collection: string; id: string }
  | { op: 'devices' }
  | { op: 'revoke'; device: string }
  | { op: 'invite'; ttlMs?: number };

export type ControlResponse =
  { ok: true; result: JsonValue } | { ok: false; error: { code: string; message: string } };

/** Longest request or response line (a record is at most 1 MiB of JSON, plus framing). */
export const MAX_CONTROL_LINE = 4 * 1024 * 1024;

function bad(message: string): never {
  throw new MeshsyncError('BAD_MESSAGE', `control request: ${message}`);
}

function text(value: Record<string, unknown>, key: string): string {
  const v = value[key];
  if (typeof v !== 'string') bad(`${key} must be a string`);
  return v;
}

function optional<T>(value: Record<string, unknown>, key: string, type: string): T | undefined {
  const v = value[key];
  if (v === undefined) return undefined;
  if (typeof v !== type) bad(`${key} must be a ${type}`);
  return v as T;
}

/** Checks a request read from the socket field by field (the library checks ids and values). */
export function parseControlRequest(line: string): ControlRequest {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    bad('not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad('not an object');
  const v = value as Record<string, unknown>;
  switch (v.op) {
    case 'status':
    case 'devices':
      return { op: v.op };
    case 'put':
      if (!('value' in v)) bad('value is missing');
      return {
        op: 'put',
        collection: text(v, 'collection'),
        id: text(v, 'id'),
        value: v.value as JsonValue,
        patch: optional<boolean>(v, 'patch', 'boolean') ?? false,
      };
    case 'get':
    case 'rm':
      return { op: v.op, collection: text(v, 'collection'), id: text(v, 'id') };
    case 'ls': {
      const after = optional<string>(v, 'after', 'string');
      const limit = optional<number>(v, 'limit', 'number');
      return {
        op: 'ls',
        collection: text(v, 'collection'),
        ...(after !== undefined ? { after } : {}),
        ...(limit !== undefined ? { limit } : {}),
      };
    }
    case 'revoke':
      return { op: 'revoke', device: text(v, 'device') };
    case 'invite': {
      const ttlMs = optional<number>(v, 'ttlMs', 'number');
      return { op: 'invite', ...(ttlMs !== undefined ? { ttlMs } : {}) };
    }
    default:
      bad(`unknown op ${JSON.stringify(v.op)?.slice(0, 40)}`);
  }
}
