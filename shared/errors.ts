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
  // Tokens, QR codes and SDP (refused as a whole; nothing is used).
  /** Not a token: bad text, bad layout, unknown kind or version, a field out of range. */
  'BAD_TOKEN',
  /** The token's signature does not match its content. */
  'TOKEN_SIGNATURE',
  'TOKEN_EXPIRED',
  /** A single-use token seen before. */
  'TOKEN_USED',
  /** An SDP that cannot be compacted or rebuilt (missing ICE credentials, fingerprint...). */
  'BAD_SDP',
  /** No QR code found in an image, or one that does not hold what was asked for. */
  'BAD_QR',
  // The secure session and the mesh.
  /** The handshake failed: not of this mesh, a bad proof, a replayed or tampered message. */
  'AUTH_FAILED',
  /** A device of the mesh's secret that is not in the member list. */
  'AUTH_UNKNOWN_DEVICE',
  'AUTH_REVOKED',
  /** Both sides see different channels (DTLS fingerprints): someone sits in between. */
  'AUTH_MITM',
  /** An encrypted frame out of order, replayed, or altered. */
  'FRAME_REJECTED',
  /** A sealed signal that does not open or whose signature fails. */
  'BAD_SEAL',
  /** A mesh operation on a peer that has none, or a second mesh on one that has. */
  'MESH_STATE',
  // The signaling server.
  /** A room join whose proof of the room key or of the device key fails. */
  'JOIN_REFUSED',
  /** Over a rate limit (messages or bytes per second); the message was dropped. */
  'RATE_LIMITED',
  /** A count limit is reached: rooms per connection, members per room, connections. */
  'LIMIT_REACHED',
  /** The addressee cannot take more now (its send buffer is full); the message was dropped. */
  'OVERLOADED',
  // Direct connections.
  /** A direct connection from a source address the listener does not take (not local). */
  'ADDRESS_REFUSED',
  // Bad input from the application (programmer errors: thrown, never sent).
  'INVALID_ID',
  'INVALID_VALUE',
  'INVALID_OPTION',
  'VALUE_TOO_LARGE',
  // Session and lifecycle.
  'TIMEOUT',
  /** A connection could not be set up (ICE or DTLS failed); `details.stage` says where. */
  'CONNECT_FAILED',
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
