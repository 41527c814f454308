/**
 * Every error meshsync raises on purpose is a `MeshsyncError` with a stable `code`.
 * Codes are part of the public API: tests and applications branch on them, never on messages.
 */
export const ERROR_CODES = [
  // Bad input from the network (the frame or message is refused, nothing changes).
  'BAD_FRAME',
  'FRAME_TOO_LARGE',
  'BAD_MESSAGE',
  'UNKNOWN_MESSAGE',
  'PROTOCOL_VERSION',
  'PROTOCOL_STATE',
  'CLOCK_DRIFT',
  'CURSOR_GAP',
  'UNWANTED_COLLECTION',
  // Bad input from the application (programmer errors: thrown, never sent).
  'INVALID_ID',
  'INVALID_VALUE',
  'INVALID_OPTION',
  'VALUE_TOO_LARGE',
  // Session and lifecycle.
  'TIMEOUT',
  'CLOSED',
  'ABORTED',
  'NOT_FOUND',
  'REMOTE_ERROR',
  // Stores.
  'STORE_FAILED',
  /** The file is not a database, or is damaged. */
  'STORE_CORRUPT',
  /** The file is a database, but not a meshsync store. */
  'STORE_FOREIGN',
  /** The store was written by a newer meshsync (schema version); it is left untouched. */
  'STORE_VERSION',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const CODE_SET: ReadonlySet<string> = new Set(ERROR_CODES);

/** True when `code` is one of meshsync's stable error codes. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && CODE_SET.has(code);
}

export class MeshsyncError extends Error {
  override readonly name = 'MeshsyncError';
  readonly code: ErrorCode;
  /** Extra context for logs (field path, limit, peer); never secrets. */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(
      `${code}: ${message}`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
    this.details = options?.details;
  }
}

/** True when `err` is a MeshsyncError, optionally with the given code. */
export function isMeshsyncError(err: unknown, code?: ErrorCode): err is MeshsyncError {
  return err instanceof MeshsyncError && (code === undefined || err.code === code);
}

/** Wraps anything thrown into a MeshsyncError, keeping MeshsyncErrors as they are. */
export function toMeshsyncError(err: unknown, fallback: ErrorCode): MeshsyncError {
  if (err instanceof MeshsyncError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new MeshsyncError(fallback, message, { cause: err });
}
