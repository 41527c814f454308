import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import express, { type NextFunction, type Request, type Response } from 'express';
import { Emitter, type Unsubscribe } from '../../shared/emitter.js';
import { MeshsyncError } from '../../shared/errors.js';
import { silentLogger, type Logger } from '../../shared/log.js';
import { DIRECT_PATHS } from '../../shared/direct/direct-paths.js';
import type { Transport } from '../transport/transport-port.js';
import { isLocalAddress } from './address-filter.js';
import { STATUS, TunnelServer, sendError } from './http-tunnel-server.js';
import { WebSocketEndpoint } from './web-socket-endpoint.js';

/** Options of a direct endpoint; `DirectListener` takes the same. */
export interface DirectServerOptions {
  /** Address to listen on. @default '0.0.0.0' */
  host?: string;
  /** TCP port; 0 picks a free one. @default 0 */
  port?: number;
  /**
   * Take connections only from loopback, private and link-local source addresses (RFC 1918,
   * fc00::/7, fe80::/10, 127/8, ::1 and their IPv4-mapped forms); others get 403. @default true
   */
  localOnly?: boolean;
  /** Replaces the source-address rule: true to take a connection from `address`. */
  allowAddress?: (address: string) => boolean;
  /** WebSockets plus HTTP tunnels open at once; more get 503. @default 64 */
  maxConnections?: number;
  /** Request headers must arrive within this (and the listener's handshake too). @default 10000 */
  handshakeTimeoutMs?: number;
  /** An HTTP tunnel with no request for this long is closed; a WebSocket that misses a ping in it too. @default 60000 */
  idleTimeoutMs?: number;
  /** The HTTP long-poll window. @default 20000 */
  pollMs?: number;
  /** Serve the WebSocket endpoint; false serves HTTP tunnels only. @default true */
  websocket?: boolean;
  /** @default silentLogger */
  logger?: Logger;
}

/** A connection turned away before any handshake, or by it. */
export interface RefusedInfo {
  address: string;
  code: string;
  message: string;
}

export interface DirectServerEvents extends Record<string, unknown> {
  /** A raw (not yet authenticated) transport opened: a WebSocket or an HTTP tunnel. */
  transport: { transport: Transport; address: string };
  refused: RefusedInfo;
}

type Resolved = Required<Omit<DirectServerOptions, 'allowAddress' | 'logger'>>;

/**
 * A device's direct endpoint without the mesh: one HTTP server (express) with the WebSocket
 * endpoint and the HTTP tunnel endpoints, source-address filtering, a connection cap and
 * timeouts. It hands out raw transports; `DirectListener` runs the secure handshake on them.
 */
export class DirectServer {
  private readonly emitter = new Emitter<DirectServerEvents>();
  private readonly options: Resolved;
  private readonly allow: (address: string) => boolean;
  private readonly log: Logger;
  private readonly tunnels: TunnelServer;
  private readonly webSockets: WebSocketEndpoint;
  private http: Server | null = null;
  private bound: { host: string; port: number } | null = null;
  private starting: Promise<{ host: string; port: number }> | null = null;
  private stopping: Promise<void> | null = null;

  constructor(options: DirectServerOptions = {}) {
    this.options = resolveOptions(options);
    const localOnly = this.options.localOnly;
    this.allow = options.allowAddress ?? (localOnly ? isLocalAddress : () => true);
    this.log = options.logger ?? silentLogger;
    const accept = (transport: Transport, address: string): void => {
      if (this.emitter.listenerCount('transport') === 0) transport.close('nobody accepts');
      else this.emitter.emit('transport', { transport, address });
    };
    this.tunnels = new TunnelServer(this.options, { admit: (a) => this.admit(a), accept });
    this.webSockets = new WebSocketEndpoint(this.options.idleTimeoutMs, accept);
  }

  on<K extends keyof DirectServerEvents>(
    event: K,
    listener: (payload: DirectServerEvents[K]) => void,
  ): Unsubscribe {
    return this.emitter.on(event, listener);
  }

  /** The bound address, once started. */
  get address(): { host: string; port: number } | null {
    return this.bound;
  }

  /** WebSockets (with upgrades under way) plus open HTTP tunnels. */
  connectionCount(): number {
    return this.webSockets.count + this.tunnels.count;
  }

  /** Listens; resolves with the bound address. Idempotent. */
  start(): Promise<{ host: string; port: number }> {
    if (this.stopping) return Promise.reject(new MeshsyncError('CLOSED', 'server is stopped'));
    return (this.starting ??= this.listen());
  }

  /** Closes the server, its sockets and tunnels (with a goodbye where possible). Idempotent. */
  stop(): Promise<void> {
    return (this.stopping ??= this.shutdown());
  }

  private async listen(): Promise<{ host: string; port: number }> {
    const { handshakeTimeoutMs, maxConnections } = this.options;
    const http = createServer(
      {
        headersTimeout: handshakeTimeoutMs,
        requestTimeout: Math.max(handshakeTimeoutMs, 120_000),
        connectionsCheckingInterval: Math.min(1000, handshakeTimeoutMs),
      },
      this.app(),
    );
    // A bound on sockets too: a tunnel client uses two (send and poll).
    http.maxConnections = maxConnections * 2 + 16;
    http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.onUpgrade(req, socket, head),
    );
    this.http = http;
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(this.options.port, this.options.host, () => {
        http.off('error', reject);
        resolve();
      });
    });
    const info = http.address() as AddressInfo;
    this.bound = { host: info.address, port: info.port };
    this.log.info('direct endpoint listening', { ...this.bound });
    return this.bound;
  }

  private app(): express.Express {
    const app = express();
    app.disable('x-powered-by');
    app.set('etag', false);
    app.use((req: Request, res: Response, next: NextFunction) => {
      const refusal = this.gate(req.socket.remoteAddress ?? '');
      if (refusal) sendError(res, refusal, refusal.code === 'CLOSED' ? 503 : undefined);
      else next();
    });
    this.tunnels.install(app);
    app.all(DIRECT_PATHS.webSocket, (_req, res) => {
      if (!this.options.websocket) sendError(res, new MeshsyncError('NOT_FOUND', 'no such path'));
      else sendError(res, new MeshsyncError('BAD_MESSAGE', 'a WebSocket upgrade is due'), 426);
    });
    app.use((_req: Request, res: Response) => {
      sendError(res, new MeshsyncError('NOT_FOUND', 'no such path'));
    });
    app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
      this.log.warn('direct endpoint: request failed', { error: String(err) });
      sendError(res, new MeshsyncError('BAD_MESSAGE', 'request failed'), 400);
    });
    return app;
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const address = req.socket.remoteAddress ?? '';
    const path = (req.url ?? '').split('?')[0];
    const refusal =
      this.gate(address) ??
      (path !== DIRECT_PATHS.webSocket || !this.options.websocket
        ? new MeshsyncError('NOT_FOUND', 'no such path')
        : this.admit(address));
    if (refusal) return refuseUpgrade(socket, refusal);
    this.webSockets.upgrade(req, socket, head, address);
  }

  /** Refuses every request while stopping, and from addresses not allowed. */
  private gate(address: string): MeshsyncError | null {
    if (this.stopping) return new MeshsyncError('CLOSED', 'endpoint stopped');
    if (this.allow(address)) return null;
    return this.refuse(
      address,
      new MeshsyncError('ADDRESS_REFUSED', 'only local source addresses are taken'),
    );
  }

  /** Refuses a new connection over the cap. */
  private admit(address: string): MeshsyncError | null {
    if (this.connectionCount() < this.options.maxConnections) return null;
    return this.refuse(
      address,
      new MeshsyncError('LIMIT_REACHED', `${this.options.maxConnections} connections already`),
    );
  }

  private refuse(address: string, error: MeshsyncError): MeshsyncError {
    this.log.warn('direct connection refused', { address, code: error.code });
    this.emitter.emit('refused', { address, code: error.code, message: error.message });
    return error;
  }

  private async shutdown(): Promise<void> {
    await this.starting?.catch(() => undefined);
    await Promise.all([
      this.tunnels.endAll('endpoint stopped'),
      this.webSockets.stop('endpoint stopped'),
    ]);
    const http = this.http;
    if (!http) return;
    // Goodbyes are written: whatever is left (keep-alive sockets, requests half sent) is cut.
    const closed = new Promise<void>((resolve) => http.close(() => resolve()));
    http.closeAllConnections();
    await closed;
    this.log.info('direct endpoint stopped', { ...this.bound });
  }
}

function refuseUpgrade(socket: Duplex, error: MeshsyncError): void {
  const status = error.code === 'CLOSED' ? 503 : (STATUS[error.code] ?? 400);
  const body = JSON.stringify({ code: error.code, message: error.message });
  socket.end(
    `HTTP/1.1 ${status} Refused\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function resolveOptions(options: DirectServerOptions): Resolved {
  const resolved: Resolved = {
    host: options.host ?? '0.0.0.0',
    port: options.port ?? 0,
    localOnly: options.localOnly ?? true,
    maxConnections: options.maxConnections ?? 64,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
    idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
    pollMs: options.pollMs ?? 20_000,
    websocket: options.websocket ?? true,
  };
  const int = (name: keyof Resolved, min: number, max: number): void => {
    const value = resolved[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new MeshsyncError('INVALID_OPTION', `${name} must be an integer from ${min} to ${max}`);
    }
  };
  int('port', 0, 65535);
  int('maxConnections', 1, 100_000);
  int('handshakeTimeoutMs', 1, 2 ** 31 - 1);
  int('idleTimeoutMs', 1, 2 ** 31 - 1);
  int('pollMs', 1, 120_000);
  if (resolved.pollMs >= resolved.idleTimeoutMs) {
    throw new MeshsyncError('INVALID_OPTION', 'pollMs must be below idleTimeoutMs');
  }
  return resolved;
}
