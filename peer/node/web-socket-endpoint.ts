import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { LIMITS } from '../../shared/limits.js';
import type { Transport } from '../transport/transport-port.js';
import { WebSocketTransport } from '../transport/web-socket-transport.js';

/**
 * The WebSocket sync endpoint of a direct server: upgrades handed over by the HTTP server
 * (`noServer`), one binary message per frame, no compression (frames are sealed: they do not
 * shrink), messages bounded by the protocol's frame limit. Each socket is pinged every half
 * idle timeout and dropped when it missed the previous ping.
 */
export class WebSocketEndpoint {
  private readonly wss = new WebSocketServer({
    noServer: true,
    maxPayload: LIMITS.maxFrameBytes,
    perMessageDeflate: false,
    clientTracking: false,
  });
  private readonly alive = new Map<WebSocket, boolean>();
  private readonly heartbeat: ReturnType<typeof setInterval>;
  private upgrading = 0;

  constructor(
    idleTimeoutMs: number,
    private readonly accept: (transport: Transport, address: string) => void,
  ) {
    this.heartbeat = setInterval(() => this.beat(), Math.max(1, Math.floor(idleTimeoutMs / 2)));
    this.heartbeat.unref();
  }

  /** Open sockets, and upgrades under way. */
  get count(): number {
    return this.alive.size + this.upgrading;
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, address: string): void {
    this.upgrading++;
    let counted = true;
    const uncount = (): void => {
      if (counted) this.upgrading--;
      counted = false;
    };
    // ws answers a bad upgrade itself (400) without calling back: count it out when it closes.
    socket.once('close', uncount);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      uncount();
      this.alive.set(ws, true);
      const live = (): void => {
        if (this.alive.has(ws)) this.alive.set(ws, true);
      };
      ws.on('pong', live);
      ws.on('message', live);
      ws.once('close', () => this.alive.delete(ws));
      this.accept(new WebSocketTransport(ws), address);
    });
  }

  /** Closes every socket (1001 with `reason`), and cuts those still open after `graceMs`. */
  async stop(reason: string, graceMs = 1000): Promise<void> {
    clearInterval(this.heartbeat);
    for (const ws of this.alive.keys()) ws.close(1001, reason);
    const deadline = Date.now() + graceMs;
    while (this.alive.size > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    for (const ws of this.alive.keys()) ws.terminate();
    this.alive.clear();
    this.wss.close();
  }

  private beat(): void {
    for (const [ws, alive] of this.alive) {
      if (!alive) {
        ws.terminate();
        continue;
      }
      this.alive.set(ws, false);
      try {
        ws.ping();
      } catch {
        ws.terminate();
      }
    }
  }
}
