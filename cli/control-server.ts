import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { JsonValue } from '../shared/json.js';
import type { Logger } from '../shared/log.js';
import { CliError, describeError } from './cli-error.js';
import { probeControl } from './control-client.js';
import {
  MAX_CONTROL_LINE,
  parseControlRequest,
  type ControlRequest,
  type ControlResponse,
} from './control-protocol.js';

/**
 * The running peer's control socket: a Unix socket in the data directory (mode 0600, in a 0700
 * directory) where the data and device commands of the same data directory send their requests,
 * so the running peer performs them and its sessions carry the changes at once.
 */
export class ControlServer {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly path: string,
    private readonly handle: (request: ControlRequest) => Promise<JsonValue>,
    private readonly log: Logger,
  ) {}

  /** Listens; ALREADY_RUNNING if a live peer holds the socket (a stale file is replaced). */
  async start(): Promise<void> {
    if (this.server) return;
    if (existsSync(this.path)) {
      if (await probeControl(this.path)) {
        throw new CliError('ALREADY_RUNNING', `a peer is already running on ${this.path}`);
      }
      unlinkSync(this.path);
    }
    const server = createServer((socket) => this.serve(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(this.path, 0o600);
    this.server = server;
  }

  /** Stops listening, drops open connections and removes the socket file. Idempotent. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    try {
      unlinkSync(this.path);
    } catch {
      // Already gone (server.close removes it on some platforms).
    }
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffered = '';
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString('utf8');
      const end = buffered.indexOf('\n');
      if (end < 0 && buffered.length <= MAX_CONTROL_LINE) return;
      socket.off('data', onData);
      const line = end < 0 ? '' : buffered.slice(0, end);
      void this.answer(socket, end < 0 ? null : line);
    };
    socket.on('data', onData);
  }

  private async answer(socket: Socket, line: string | null): Promise<void> {
    let response: ControlResponse;
    try {
      if (line === null) throw new CliError('USAGE', 'control request too large');
      const request = parseControlRequest(line);
      response = { ok: true, result: await this.handle(request) };
      if (request.op !== 'status') this.log.debug('control request', { op: request.op });
    } catch (err) {
      response = { ok: false, error: describeError(err) };
    }
    socket.end(JSON.stringify(response) + '\n');
  }
}
