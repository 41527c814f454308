import { isMeshsyncError } from '../shared/errors.js';

/**
 * Codes of the command line's own failures; failures of the library keep their `MeshsyncError`
 * code. Codes are stable (scripts and tests branch on them), messages are for people.
 */
export type CliErrorCode =
  /** Bad flags or arguments (exit 2). */
  | 'USAGE'
  /** No device in the data directory: run `meshsync init` (or `join`). */
  | 'NOT_INITIALIZED'
  /** `init` on a data directory that already holds a device. */
  | 'ALREADY_INITIALIZED'
  /** `status` with no `meshsync start` running on the data directory. */
  | 'NOT_RUNNING'
  /** A second `start` (or `offer`/`answer`) on a data directory a running peer holds. */
  | 'ALREADY_RUNNING'
  /** The control socket answered with something unreadable, or closed early. */
  | 'CONTROL_FAILED'
  /** Nothing could be dialed (no endpoint in the token, every dial failed). */
  | 'UNREACHABLE';

export class CliError extends Error {
  constructor(
    readonly code: CliErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Exit status of a failure: 2 for usage errors, 1 for everything else. */
export function exitCodeOf(code: string): number {
  return code === 'USAGE' || code === 'INVALID_OPTION' ? 2 : 1;
}

/** `{ code, message }` of anything thrown (code `INTERNAL` for what is not ours). */
export function describeError(err: unknown): { code: string; message: string } {
  if (err instanceof CliError || err instanceof RemoteCliError || isMeshsyncError(err)) {
    // MeshsyncError messages start with their code: print it once, at the end.
    const prefix = `${err.code}: `;
    const message = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
    return { code: err.code, message };
  }
  return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

/** A failure that came back through the control socket, with its original code. */
export class RemoteCliError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'RemoteCliError';
  }
}
