import { MeshsyncError } from '../../shared/errors.js';
import { DEFAULTS, LIMITS } from '../../shared/limits.js';

import { isCollectionName, type CollectionName, type DeviceId } from '../../shared/ids.js';
import { CAPABILITY_PATTERN } from '../../shared/protocol/schemas.js';
import type { Logger } from '../../shared/log.js';

/** Timer functions, injectable so tests can drive time. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface SyncOptions {
  /** Collections to receive from peers; null for all (selective sync). @default null */
  want?: readonly string[] | null;
  /**
   * Most rows in flight: a push sends pages of this many rows; a pull asks for pages of half as
   * many, two at a time (the next one while the last is applied). @default 4000
   */
  pageRows?: number;
  /** Size target (UTF-16 units of row JSON) of rows in flight, halved like `pageRows`. @default 2 MiB */
  pageBytes?: number;
  /** Give up on a request after this long. @default 30_000 */
  requestTimeoutMs?: number;
  /** Close a session whose handshake has not finished after this long. @default 15_000 */
  handshakeTimeoutMs?: number;
  /** Coalesce local changes for this long before sending a "changed" notice. @default 10 */
  changedDebounceMs?: number;
  /** Pull when the session opens and when the peer says it changed. @default true */
  autoPull?: boolean;
  /** Close the session after this many bad frames from the peer. @default 32 */
  maxProtocolErrors?: number;
  /** Capabilities to announce in the handshake. @default [] */
  capabilities?: readonly string[];
  timers?: Timers;
  logger?: Logger;
}

export type SessionState = 'handshaking' | 'ready' | 'closed';

export interface SyncProgress {
  direction: 'pull' | 'push';
  /** Pages and rows moved by this pull or push so far. */
  pages: number;
  rows: number;
  bytes: number;
  /** The sender's seq covered so far and its head: `head - cursor` is an upper bound of what remains. */
  cursor: number;
  head: number;
  pending: number;
}

export interface SyncResult {
  direction: 'pull' | 'push';
  pages: number;
  rows: number;
  bytes: number;
  cursor: number;
}

/** Counters and last events of a session. */
export interface SessionStats {
  rowsIn: number;
  rowsOut: number;
  bytesIn: number;
  bytesOut: number;
  lastPullAt: number | null;
  lastPushAt: number | null;
  lastError: { code: string; message: string } | null;
  closeReason: string | null;
}

export function emptyStats(): SessionStats {
  return {
    rowsIn: 0,
    rowsOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    lastPullAt: null,
    lastPushAt: null,
    lastError: null,
    closeReason: null,
  };
}

export interface SessionStatus extends SessionStats {
  state: SessionState;
  transport: string;
  remote: DeviceId | null;
  /** Collections the remote asked for (null = all). */
  remoteWants: CollectionName[] | null;
  /** Our cursor into the remote's changes, and theirs into ours. */
  cursorIn: number;
  cursorOut: number;
}

export interface SessionEvents extends Record<string, unknown> {
  ready: { remote: DeviceId };
  progress: SyncProgress;
  synced: SyncResult;
  /** A request failed or the peer sent something bad; the session goes on. */
  error: MeshsyncError;
  closed: { reason: string; error?: MeshsyncError };
}

/** Options with their defaults filled in. */
export type ResolvedSyncOptions = Required<Omit<SyncOptions, 'want' | 'timers' | 'logger'>>;

export function resolveSyncOptions(options: SyncOptions): ResolvedSyncOptions {
  const positive = (
    name: keyof SyncOptions,
    value: number | undefined,
    fallback: number,
  ): number => {
    if (value === undefined) return fallback;
    if (!Number.isFinite(value) || value <= 0) {
      throw new MeshsyncError('INVALID_OPTION', `${name} must be a positive number`, {
        details: { value },
      });
    }
    return value;
  };
  for (const name of options.want ?? []) {
    if (!isCollectionName(name)) {
      throw new MeshsyncError(
        'INVALID_OPTION',
        `want: ${JSON.stringify(name)} is not a collection name`,
      );
    }
  }
  if ((options.want?.length ?? 0) > LIMITS.maxWantedCollections) {
    throw new MeshsyncError(
      'INVALID_OPTION',
      `want: at most ${LIMITS.maxWantedCollections} collections`,
    );
  }
  const caps = options.capabilities ?? [];
  if (caps.length > LIMITS.maxCapabilities || caps.some((cap) => !CAPABILITY_PATTERN.test(cap))) {
    throw new MeshsyncError(
      'INVALID_OPTION',
      `capabilities: at most ${LIMITS.maxCapabilities}, each matching ${CAPABILITY_PATTERN}`,
    );
  }
  return {
    pageRows: Math.min(
      positive('pageRows', options.pageRows, DEFAULTS.pageRows),
      LIMITS.maxPageRows,
    ),
    pageBytes: positive('pageBytes', options.pageBytes, DEFAULTS.pageBytes),
    requestTimeoutMs: positive(
      'requestTimeoutMs',
      options.requestTimeoutMs,
      DEFAULTS.requestTimeoutMs,
    ),
    handshakeTimeoutMs: positive(
      'handshakeTimeoutMs',
      options.handshakeTimeoutMs,
      DEFAULTS.handshakeTimeoutMs,
    ),
    changedDebounceMs: options.changedDebounceMs ?? DEFAULTS.changedDebounceMs,
    autoPull: options.autoPull ?? true,
    maxProtocolErrors: positive('maxProtocolErrors', options.maxProtocolErrors, 32),
    capabilities: options.capabilities ?? [],
  };
}
