/**
 * The WebSocket a signaling client needs: the W3C API's subset. Injected, so the core never
 * looks for a global: `ws` in Node (`meshsync/node`), the native WebSocket in browsers
 * (`meshsync/browser`).
 */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: Handler<unknown> | null;
  onmessage: Handler<{ data: unknown }> | null;
  onclose: Handler<{ code: number; reason: string }> | null;
  onerror: Handler<unknown> | null;
}

/**
 * An event handler, declared as a method so that both the DOM's and `ws`'s handler types (each
 * with its own event class) fit the port.
 */
type Handler<E> = { handle(event: E): void }['handle'];

/** Opens a WebSocket to `url`. */
export type WebSocketFactory = (url: string) => WebSocketLike;

export const WS_OPEN = 1;
