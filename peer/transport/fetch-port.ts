/**
 * The `fetch` an HTTP transport needs: POST with a binary body, a status and a readable body.
 * Injected, so the core never looks for a global: Node 20's and the browser's `fetch` both fit.
 */
export type FetchLike = (url: string, init: FetchInit) => Promise<FetchResponseLike>;

export interface FetchInit {
  method: 'POST';
  headers: Record<string, string>;
  body: Uint8Array<ArrayBuffer>;
  signal: AbortSignal;
}

export interface FetchResponseLike {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  readonly body: FetchBodyLike | null;
}

/** The response body as a stream, read in chunks so that a size limit holds. */
export interface FetchBodyLike {
  getReader(): {
    read(): Promise<{ done: boolean; value?: Uint8Array }>;
    cancel(reason?: unknown): Promise<void>;
  };
}
