import { createServer, type IncomingMessage, type Server } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import express from 'express';
import { WebSocketServer } from 'ws';
import { MeshsyncError } from '../shared/errors.js';
import { silentLogger, type Logger } from '../shared/log.js';
import { SignalingHub } from './hub.js';
import { resolveLimits, type SignalingLimits } from './limits.js';
import { SignalingMetrics } from './metrics.js';

const HEARTBEAT_TICK_MS = 100;

export interface SignalingServerOptions {
  /** TCP port; 0 picks a free one. @default 8787 */
  port?: number;
  /** Address to listen on. Loopback by default: pass `0.0.0.0` or `::` to serve a network. @default '127.0.0.1' */
  host?: string;
  /** URL path of the WebSocket endpoint. @default '/signal' */
  path?: string;
  /** Safety limits; each defaults to `DEFAULT_SIGNALING_LIMITS`. */
  limits?: Partial<SignalingLimits>;
  /** Where structured logs go. @default silentLogger */
  logger?: Logger;
  /** Take the client address from the last `X-Forwarded-For` hop (behind a proxy). @default false */
  trustProxy?: boolean;
  /** On graceful close, how long clients get to go before they are cut. @default 5000 */
  shutdownGraceMs?: number;
  /** The reconnect delay suggested to clients on shutdown. @default 1000 */
  shutdownRetryMs?: number;
  /** Close gracefully on SIGTERM and SIGINT (for a process that is only this server). @default false */
  handleSignals?: boolean;
}

export interface SignalingStats {
  connections: number;
  rooms: number;
  members: number;
}

export interface SignalingServer {
  readonly port: number;
  readonly host: string;
  /** The WebSocket URL clients connect to. */
  readonly url: string;
  readonly limits: Readonly<SignalingLimits>;
  readonly metrics: SignalingMetrics;
  stats(): SignalingStats;
  /** Graceful stop: refuses new clients, tells every client, drains, then cuts what is left. */
  close(): Promise<void>;
}

/**
 * Starts a signaling server: express for `GET /healthz` and `GET /metrics`, and a ws server
 * mounted with `noServer` on the same HTTP server for the WebSocket endpoint. Resolves once it
 * listens.
 */
export async function createSignalingServer(
  options: SignalingServerOptions = {},
): Promise<SignalingServer> {
  const limits = resolveLimits(options.limits);
  const log = options.logger ?? silentLogger;
  const path = options.path ?? '/signal';
  const metrics = new SignalingMetrics();
  const hub = new SignalingHub(limits, metrics, log);
  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxPayloadBytes });
  let closing: Promise<void> | null = null;

  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.status(closing ? 503 : 200).json({ status: closing ? 'draining' : 'ok', ...stats() });
  });
  app.get('/metrics', (_req, res) => {
    res.type('text/plain; version=0.0.4').send(metrics.render(stats(), process.memoryUsage.rss()));
  });
  const http = createServer(app);
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const ip = clientIp(req, options.trustProxy ?? false);
    const url = new URL(req.url ?? '/', 'http://x');
    if (closing) return refuseUpgrade(socket, 503, 'shutting down');
    if (url.pathname !== path) return refuseUpgrade(socket, 404, 'not found');
    if (hub.admission(ip) !== null) {
      metrics.reject('LIMIT_REACHED');
      log.warn('signaling connection refused: limit reached', { ip });
      return refuseUpgrade(socket, 429, 'too many connections');
    }
    wss.handleUpgrade(req, socket, head, (ws) => hub.accept(ws, ip));
  });

  // Each connection is pinged once per heartbeatMs, one slice of them every ~100 ms: with many
  // clients, one burst of pings (and of pongs) would stall the relay for a noticeable time.
  const slices = Math.max(1, Math.round(limits.heartbeatMs / HEARTBEAT_TICK_MS));
  const heartbeat = setInterval(() => hub.heartbeat(slices), limits.heartbeatMs / slices);
  heartbeat.unref();

  const stats = (): SignalingStats => ({
    connections: hub.connections.size,
    rooms: hub.rooms.roomCount,
    members: hub.rooms.members,
  });

  await listen(http, options.port ?? 8787, options.host ?? '127.0.0.1');
  const address = http.address() as AddressInfo;
  const host = address.address;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  log.info('signaling server listening', { host, port: address.port, path });

  const onSignal = (signal: string) => {
    log.info('signaling server stopping', { signal });
    void close().then(() => process.exit(0));
  };
  if (options.handleSignals) {
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }

  const close = (): Promise<void> =>
    (closing ??= (async () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      clearInterval(heartbeat);
      http.closeIdleConnections();
      hub.shutdown(options.shutdownRetryMs ?? 1000);
      const graceMs = options.shutdownGraceMs ?? 5000;
      const deadline = Date.now() + graceMs;
      // Still listening while clients drain, so /healthz says 503 and new upgrades get 503.
      while (hub.connections.size > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const httpClosed = new Promise<void>((resolve) => http.close(() => resolve()));
      for (const conn of hub.connections) conn.ws.terminate();
      http.closeAllConnections();
      await httpClosed;
      // Terminated sockets leave the hub on their close event, a tick later.
      for (let k = 0; k < 200 && hub.connections.size > 0; k++) {
        await new Promise((r) => setTimeout(r, 5));
      }
      log.info('signaling server stopped', { ...stats() });
    })());

  return {
    port: address.port,
    host,
    url: `ws://${urlHost}:${address.port}${path}`,
    limits,
    metrics,
    stats,
    close,
  };
}

function listen(http: Server, port: number, host: string): Promise<void> {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    return Promise.reject(new MeshsyncError('INVALID_OPTION', `port ${port} is not a TCP port`));
  }
  return new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
}

function clientIp(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const hops = String(req.headers['x-forwarded-for'] ?? '').split(',');
    const last = hops[hops.length - 1]?.trim() ?? '';
    if (isIP(last)) return last;
  }
  return req.socket.remoteAddress ?? 'unknown';
}

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
