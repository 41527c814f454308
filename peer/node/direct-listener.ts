import { Emitter, type Unsubscribe } from '../../shared/emitter.js';
import { MeshsyncError, toMeshsyncError } from '../../shared/errors.js';
import { silentLogger, type Logger } from '../../shared/log.js';
import type { Endpoint } from '../../shared/token/endpoint.js';
import type { Mesh } from '../mesh/mesh.js';
import type { SyncSession } from '../sync/session.js';
import type { SyncOptions } from '../sync/session-types.js';
import type { Transport } from '../transport/transport-port.js';
import { DirectServer, type DirectServerOptions, type RefusedInfo } from './direct-server.js';
import { listenerEndpoints } from './interface-endpoints.js';

export interface DirectListenerOptions extends DirectServerOptions {
  /** The mesh whose members may connect (and devices with its invites may join). */
  mesh: Mesh;
  /** Options of the sync sessions on accepted connections. */
  sync?: SyncOptions;
}

export interface DirectListenerEvents extends Record<string, unknown> {
  /** A device connected and passed the secure handshake: sync over the session. */
  session: SyncSession;
  /**
   * A connection was turned away: by source address (ADDRESS_REFUSED), over the cap
   * (LIMIT_REACHED), or by the handshake (AUTH_*, TOKEN_*, TIMEOUT, CLOSED).
   */
  refused: RefusedInfo;
}

/**
 * A Node peer's direct endpoint: other devices connect to it over WebSocket or, where upgrades
 * are blocked, over an HTTP tunnel of plain POSTs (`DirectDialer`). Every connection runs the
 * mesh's secure handshake first (frames are then sealed end to end), so only members get a
 * session; a handshake not done within `handshakeTimeoutMs` is dropped.
 */
export class DirectListener {
  private readonly emitter = new Emitter<DirectListenerEvents>();
  private readonly server: DirectServer;
  private readonly mesh: Mesh;
  private readonly sync: SyncOptions;
  private readonly handshakeTimeoutMs: number;
  private readonly localOnly: boolean;
  private readonly log: Logger;
  private stopped = false;

  constructor(options: DirectListenerOptions) {
    const { mesh, sync, ...serverOptions } = options;
    this.mesh = mesh;
    this.sync = sync ?? {};
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000;
    this.localOnly = options.localOnly ?? true;
    this.log = options.logger ?? silentLogger;
    this.server = new DirectServer(serverOptions);
    this.server.on('refused', (info) => this.emitter.emit('refused', info));
    this.server.on('transport', ({ transport, address }) => {
      void this.handshake(transport, address);
    });
  }

  on<K extends keyof DirectListenerEvents>(
    event: K,
    listener: (payload: DirectListenerEvents[K]) => void,
  ): Unsubscribe {
    return this.emitter.on(event, listener);
  }

  /** Listens; resolves with the bound address. Idempotent. */
  start(): Promise<{ host: string; port: number }> {
    return this.server.start();
  }

  /** Closes the server, its sockets and tunnels (and so their sessions). Idempotent. */
  stop(): Promise<void> {
    this.stopped = true;
    return this.server.stop();
  }

  /**
   * How other devices reach this listener: the bound address, or for a wildcard bind the
   * machine's interface addresses (local ones only when `localOnly`). Empty before `start()`.
   */
  endpoints(): Endpoint[] {
    const bound = this.server.address;
    return bound ? listenerEndpoints(bound.host, bound.port, this.localOnly) : [];
  }

  /** WebSockets plus HTTP tunnels open now, authenticated or not. */
  connectionCount(): number {
    return this.server.connectionCount();
  }

  private async handshake(raw: Transport, address: string): Promise<void> {
    const timeout = new AbortController();
    const timedOut = new MeshsyncError(
      'TIMEOUT',
      `no handshake within ${this.handshakeTimeoutMs} ms`,
    );
    const timer = setTimeout(() => {
      raw.close(timedOut.message); // first, so that the other side reads why
      timeout.abort();
    }, this.handshakeTimeoutMs);
    try {
      const session = await this.mesh.connect(raw, { ...this.sync, signal: timeout.signal });
      if (this.stopped) return session.close('listener stopped');
      this.emitter.emit('session', session);
    } catch (err) {
      const error = timeout.signal.aborted ? timedOut : toMeshsyncError(err, 'AUTH_FAILED');
      raw.close(error.message);
      this.log.info('direct connection refused by the handshake', { address, code: error.code });
      this.emitter.emit('refused', { address, code: error.code, message: error.message });
    } finally {
      clearTimeout(timer);
    }
  }
}
