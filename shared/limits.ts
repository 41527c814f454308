/** Protocol versions this implementation speaks (PROTOCOL.md). */
export const PROTOCOL_VERSION = 1;
export const MIN_PROTOCOL_VERSION = 1;
/** The frame format byte in every frame header. */
export const FRAME_FORMAT = 1;

/** Hard limits on what a peer accepts from the wire; larger inputs are refused. */
export const LIMITS = {
  /** Largest frame a peer accepts, header included. */
  maxFrameBytes: 8 * 1024 * 1024,
  /** Largest encoded record a device may write (JSON bytes). */
  maxRecordBytes: 1024 * 1024,
  /** Most rows in one page. */
  maxPageRows: 10_000,
  /** Most top-level fields in one record. */
  maxFields: 1024,
  /** Most collections a peer may ask for in selective sync. */
  maxWantedCollections: 256,
  /** Most capabilities a peer may announce. */
  maxCapabilities: 32,
  /** Longest error message relayed from a peer. */
  maxErrorMessage: 500,
} as const;

/** Defaults a peer uses for its own requests; all can be changed per peer. */
export const DEFAULTS = {
  /** Rows in flight: pulls ask for half of it at a time, two at once. */
  pageRows: 4000,
  /** The same in UTF-16 units of encoded rows (at most 3 bytes each on the wire). */
  pageBytes: 2 * 1024 * 1024,
  requestTimeoutMs: 30_000,
  handshakeTimeoutMs: 15_000,
  changedDebounceMs: 10,
} as const;
