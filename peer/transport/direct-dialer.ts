import { MeshsyncError, toMeshsyncError } from '../../shared/errors.js';
import { DIRECT_PATHS, endpointUrl } from '../../shared/direct/direct-paths.js';
import { MAX_JSON_ANSWER_BYTES, parseTunnelOpened } from '../../shared/direct/tunnel-answers.js';
import type { Endpoint } from '../../shared/token/endpoint.js';
import type { WebSocketFactory, WebSocketLike } from '../signaling/socket-port.js';
import type { FetchLike } from './fetch-port.js';
import { answerError, postBytes } from './http-post.js';
import { HttpTransport } from './http-transport.js';
import type { Transport } from './transport-port.js';
import { WebSocketTransport, socketErrorText } from './web-socket-transport.js';

export interface DialOptions {
  /** @default 10000 */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Opens raw transports to a device's direct endpoint (PROTOCOL.md section 23). */
export interface DirectDialer {
  /**
   * Opens a raw (not yet authenticated) transport to a direct endpoint's WebSocket; rejects with
   * a MeshsyncError: CONNECT_FAILED with the reason, TIMEOUT, ABORTED, INVALID_VALUE (a bad
   * endpoint). Run `mesh.connect()` over it next.
   */
  websocket(endpoint: Endpoint, options?: DialOptions): Promise<Transport>;
  /** The same over an HTTP tunnel (plain POSTs), for networks that block WebSocket upgrades. */
  http(endpoint: Endpoint, options?: DialOptions): Promise<Transport>;
}

/** The platform parts a dialer needs: `nodeDirectDialer` and `browserDirectDialer` fill them. */
export interface DirectDialerPorts {
  webSocket: WebSocketFactory;
  fetch: FetchLike;
}

const DEFAULT_TIMEOUT_MS = 10_000;

export function createDirectDialer(ports: DirectDialerPorts): DirectDialer {
  return {
    async websocket(endpoint, options = {}) {
      const url = endpointUrl(endpoint, 'ws', DIRECT_PATHS.webSocket);
      return openSocket(ports.webSocket, url, options);
    },
    async http(endpoint, options = {}) {
      const baseUrl = endpointUrl(endpoint, 'http', '');
      const answer = await postBytes(
        ports.fetch,
        `${baseUrl}${DIRECT_PATHS.tunnel}`,
        new Uint8Array(0),
        {
          timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
          maxBytes: MAX_JSON_ANSWER_BYTES,
          failCode: 'CONNECT_FAILED',
          ...(options.signal ? { signal: options.signal } : {}),
        },
      ).catch((err: unknown) => {
        throw toMeshsyncError(err, 'CONNECT_FAILED');
      });
      if (answer.status !== 201) {
        const refusal = answerError(answer, 'REMOTE_ERROR');
        throw new MeshsyncError('CONNECT_FAILED', `tunnel refused: ${refusal.message}`, {
          details: { status: answer.status, code: refusal.code },
        });
      }
      let opened;
      try {
        opened = parseTunnelOpened(answer.body);
      } catch (err) {
        throw new MeshsyncError('CONNECT_FAILED', `not a meshsync endpoint: ${String(err)}`, {
          cause: err,
        });
      }
      return new HttpTransport({ fetch: ports.fetch, baseUrl, ...opened });
    },
  };
}

/**
 * Resolves with a transport over the socket once it is open. The transport takes the socket over
 * in the open event itself: `ws` may emit a message that came with the upgrade answer before a
 * promise continuation runs.
 */
function openSocket(
  factory: WebSocketFactory,
  url: string,
  options: DialOptions,
): Promise<Transport> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(new MeshsyncError('ABORTED', 'dial aborted'));
  return new Promise((resolve, reject) => {
    let socket: WebSocketLike;
    try {
      socket = factory(url);
    } catch (err) {
      reject(new MeshsyncError('CONNECT_FAILED', `cannot open ${url}: ${String(err)}`));
      return;
    }
    let lastError = '';
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const timer = setTimeout(
      () => settle(new MeshsyncError('TIMEOUT', `websocket not open within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onAbort = (): void => settle(new MeshsyncError('ABORTED', 'dial aborted'));
    signal?.addEventListener('abort', onAbort);
    const settle = (error: MeshsyncError | null): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.onopen = null;
      socket.onclose = null;
      // Not null: closing a socket still connecting makes `ws` emit an error, which with no
      // handler would be thrown.
      socket.onerror = () => undefined;
      if (!error) return resolve(new WebSocketTransport(socket));
      try {
        socket.close();
      } catch {
        // Not open yet in some implementations: nothing to close.
      }
      reject(error);
    };
    socket.onopen = () => settle(null);
    socket.onerror = (event) => {
      lastError = socketErrorText(event);
    };
    socket.onclose = (event) =>
      settle(
        new MeshsyncError(
          'CONNECT_FAILED',
          `websocket closed before opening (${event.code})${lastError ? `: ${lastError}` : ''}`,
          { details: { closeCode: event.code } },
        ),
      );
  });
}
