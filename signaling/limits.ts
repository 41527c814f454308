import { MeshsyncError } from '../shared/errors.js';
import { MAX_TEXT_MESSAGE } from '../shared/signaling/messages.js';

/** The signaling server's safety limits. Every one has a default fit for a public server. */
export interface SignalingLimits {
  /** Largest WebSocket message; larger ones close the connection (1009). @default 65536 */
  maxPayloadBytes: number;
  /** Messages a connection may send per second (burst: twice this). @default 100 */
  messagesPerSecond: number;
  /** Bytes a connection may send per second (burst: twice this). @default 4194304 */
  bytesPerSecond: number;
  /** Rooms one connection may be in. @default 8 */
  maxRoomsPerConnection: number;
  /** Devices in one room. @default 64 */
  maxMembersPerRoom: number;
  /** Open connections from one IP address. @default 32 */
  maxConnectionsPerIp: number;
  /** Open connections in all. @default 20000 */
  maxConnections: number;
  /** Bytes waiting to be sent to one client before relays to it are refused. @default 4194304 */
  maxBufferedBytes: number;
  /** Interval of the heartbeat ping; a socket that missed one is dropped. @default 30000 */
  heartbeatMs: number;
  /** A connection that joins no room within this is closed. @default 30000 */
  idleTimeoutMs: number;
}

export const DEFAULT_SIGNALING_LIMITS: Readonly<SignalingLimits> = Object.freeze({
  maxPayloadBytes: 64 * 1024,
  messagesPerSecond: 100,
  bytesPerSecond: 4 * 1024 * 1024,
  maxRoomsPerConnection: 8,
  maxMembersPerRoom: 64,
  maxConnectionsPerIp: 32,
  maxConnections: 20_000,
  maxBufferedBytes: 4 * 1024 * 1024,
  heartbeatMs: 30_000,
  idleTimeoutMs: 30_000,
});

/** Fills in defaults and refuses nonsense (INVALID_OPTION). */
export function resolveLimits(given: Partial<SignalingLimits> = {}): SignalingLimits {
  const limits = { ...DEFAULT_SIGNALING_LIMITS };
  for (const [key, value] of Object.entries(given)) {
    if (!Object.hasOwn(DEFAULT_SIGNALING_LIMITS, key)) {
      throw new MeshsyncError('INVALID_OPTION', `unknown signaling limit ${key}`);
    }
    if (value === undefined) continue;
    // Integers up to 2^31 - 1: Node clamps longer timers to 1 ms, and the hello announces the
    // limits as integers that clients check.
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 2 ** 31 - 1) {
      throw new MeshsyncError(
        'INVALID_OPTION',
        `limit ${key} must be an integer from 1 to 2^31 - 1`,
      );
    }
    limits[key as keyof SignalingLimits] = value;
  }
  if (limits.maxPayloadBytes < MAX_TEXT_MESSAGE) {
    throw new MeshsyncError(
      'INVALID_OPTION',
      `maxPayloadBytes must be at least ${MAX_TEXT_MESSAGE} (a sealed signal must fit)`,
    );
  }
  if (limits.bytesPerSecond * 2 < limits.maxPayloadBytes) {
    throw new MeshsyncError(
      'INVALID_OPTION',
      'bytesPerSecond must be at least half of maxPayloadBytes (the burst must hold a message)',
    );
  }
  return limits;
}
