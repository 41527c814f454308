import { MeshsyncError, toMeshsyncError } from '../../shared/errors.js';
import type { DeviceId } from '../../shared/ids.js';
import type { SyncSession } from '../sync/session.js';
import type { Timers } from '../sync/session-types.js';
import type { PathKind, PathOpener } from './paths.js';

/** One rung tried (or skipped) while climbing the ladder. */
export interface PathAttempt {
  path: PathKind;
  /** ms since the epoch when the step started. */
  at: number;
  outcome: 'connected' | 'failed' | 'skipped';
  /** Why it failed or was skipped. */
  code?: string;
  reason?: string;
  ms: number;
}

export interface ClimbResult {
  session: SyncSession | null;
  path: PathKind | null;
  attempts: PathAttempt[];
}

export interface ClimbOptions {
  /** Each step gets this long to give a ready session. */
  stepTimeoutMs: number;
  signal: AbortSignal;
  timers: Timers;
  now: () => number;
  /** Called after each step, for live status. */
  onStep?: (attempt: PathAttempt) => void;
  /** Checked before each step: false stops the climb (a session came another way). */
  goOn?: () => boolean;
}

/** A readable account of why a path failed, e.g. `TIMEOUT at ice: 0 remote candidates`. */
function describe(error: MeshsyncError): string {
  const prefix = `${error.code}: `;
  const text = error.message.startsWith(prefix)
    ? error.message.slice(prefix.length)
    : error.message;
  const stage = error.details?.stage;
  return typeof stage === 'string' && !text.includes(stage) ? `${text} (at ${stage})` : text;
}

/**
 * Tries each path for `device` in order, each only after the one before failed, was skipped or
 * timed out; stops at the first that gives a ready session. The attempts say why each step did
 * not work.
 */
export async function climb(
  device: DeviceId,
  paths: readonly PathOpener[],
  options: ClimbOptions,
): Promise<ClimbResult> {
  const attempts: PathAttempt[] = [];
  const record = (attempt: PathAttempt): void => {
    attempts.push(attempt);
    options.onStep?.(attempt);
  };
  for (const path of paths) {
    if (options.signal.aborted || options.goOn?.() === false) break;
    const at = options.now();
    const why = path.unavailable(device);
    if (why !== null) {
      record({ path: path.kind, at, outcome: 'skipped', reason: why, ms: 0 });
      continue;
    }
    const step = new AbortController();
    const onOuterAbort = (): void => step.abort(options.signal.reason);
    options.signal.addEventListener('abort', onOuterAbort, { once: true });
    const timer = options.timers.setTimeout(
      () =>
        step.abort(
          new MeshsyncError('TIMEOUT', `no ready session within ${options.stepTimeoutMs} ms`),
        ),
      options.stepTimeoutMs,
    );
    try {
      const session = await path.open(device, step.signal);
      record({ path: path.kind, at, outcome: 'connected', ms: options.now() - at });
      return { session, path: path.kind, attempts };
    } catch (err) {
      const error = toMeshsyncError(err, 'CONNECT_FAILED');
      record({
        path: path.kind,
        at,
        outcome: 'failed',
        code: error.code,
        reason: describe(error),
        ms: options.now() - at,
      });
    } finally {
      options.timers.clearTimeout(timer);
      options.signal.removeEventListener('abort', onOuterAbort);
    }
  }
  return { session: null, path: null, attempts };
}

/** `webrtc: TIMEOUT ...; websocket: connected` for status lines. */
export function summarise(attempts: readonly PathAttempt[]): string {
  return attempts
    .map((a) =>
      a.outcome === 'connected'
        ? `${a.path}: connected`
        : `${a.path}: ${a.outcome === 'skipped' ? 'skipped, ' : `${a.code ?? 'failed'}, `}${a.reason ?? ''}`,
    )
    .join('; ');
}
