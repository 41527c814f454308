import { fromUtf8 } from '../crypto/bytes.js';
import { MeshsyncError, isErrorCode, type ErrorCode } from '../errors.js';
import { LIMITS } from '../limits.js';
import { TUNNEL_ID } from './direct-paths.js';

/** The answer to a tunnel open: `{"v": 1, "tunnel": <id>, "pollMs": <poll window>}`. */
export interface TunnelOpened {
  tunnel: string;
  pollMs: number;
}

/** The error body of every refused direct-endpoint request: `{"code", "message"}`. */
export interface DirectErrorBody {
  code: ErrorCode;
  message: string;
}

export const TUNNEL_VERSION = 1;
/** Longest poll window a client accepts from a server. */
export const MAX_POLL_MS = 120_000;
/** Largest JSON answer (tunnel open, error) either side reads. */
export const MAX_JSON_ANSWER_BYTES = 1024;

/** Parses a tunnel-open answer strictly (unknown fields refused); throws BAD_MESSAGE. */
export function parseTunnelOpened(bytes: Uint8Array): TunnelOpened {
  const value = parseObject(bytes, ['v', 'tunnel', 'pollMs']);
  if (value.v !== TUNNEL_VERSION) throw bad(`tunnel version ${String(value.v)}`);
  const { tunnel, pollMs } = value;
  if (typeof tunnel !== 'string' || !TUNNEL_ID.test(tunnel)) throw bad('bad tunnel id');
  if (typeof pollMs !== 'number' || !Number.isInteger(pollMs) || pollMs < 1 || pollMs > MAX_POLL_MS)
    throw bad('bad poll window');
  return { tunnel, pollMs };
}

/**
 * Parses an error body; a code this version does not know reads as REMOTE_ERROR, a body that is
 * not one at all gives null.
 */
export function parseDirectError(bytes: Uint8Array): DirectErrorBody | null {
  try {
    const value = parseObject(bytes, ['code', 'message']);
    const { code, message } = value;
    if (typeof code !== 'string' || typeof message !== 'string') return null;
    return {
      code: isErrorCode(code) ? code : 'REMOTE_ERROR',
      message: message.slice(0, LIMITS.maxErrorMessage),
    };
  } catch {
    return null;
  }
}

function parseObject(bytes: Uint8Array, keys: readonly string[]): Record<string, unknown> {
  if (bytes.length > MAX_JSON_ANSWER_BYTES) throw bad('answer too long');
  let value: unknown;
  try {
    value = JSON.parse(fromUtf8(bytes));
  } catch (err) {
    throw new MeshsyncError('BAD_MESSAGE', 'answer is not JSON', { cause: err });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw bad('not an object');
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) if (!keys.includes(key)) throw bad(`unknown field ${key}`);
  return record;
}

function bad(message: string): MeshsyncError {
  return new MeshsyncError('BAD_MESSAGE', `direct endpoint answer: ${message}`);
}
