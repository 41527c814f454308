import { randomBytes } from 'node:crypto';
import express, { type Express, type Request, type Response, type NextFunction } from 'express';
import { MeshsyncError, toMeshsyncError, type ErrorCode } from '../../shared/errors.js';
import { toBase64url } from '../../shared/crypto/bytes.js';
import { DIRECT_PATHS, TUNNEL_ID } from '../../shared/direct/direct-paths.js';
import { TUNNEL_VERSION } from '../../shared/direct/tunnel-answers.js';
import { MAX_TUNNEL_BODY_BYTES, parseTunnelBody } from '../../shared/direct/tunnel-body.js';
import type { Transport } from '../transport/transport-port.js';
import { TunnelTransport, type PollAnswer, type TunnelTiming } from './http-tunnel.js';

/** What the direct server decides for the tunnel server. */
export interface TunnelServerHooks {
  /** Null when a new connection from `address` may open, else why not. */
  admit(address: string): MeshsyncError | null;
  /** A tunnel opened: its raw transport. */
  accept(transport: Transport, address: string): void;
}

/** HTTP status of each refusal code the direct endpoint sends. */
export const STATUS: Partial<Record<ErrorCode, number>> = {
  BAD_FRAME: 400,
  BAD_MESSAGE: 400,
  ADDRESS_REFUSED: 403,
  NOT_FOUND: 404,
  FRAME_REJECTED: 409,
  CLOSED: 410,
  FRAME_TOO_LARGE: 413,
  LIMIT_REACHED: 503,
};

/** Sends a coded JSON error body. */
export function sendError(
  res: Response,
  error: MeshsyncError,
  status = STATUS[error.code] ?? 500,
): void {
  if (res.headersSent) return;
  res
    .status(status)
    .set('cache-control', 'no-store')
    .json({ code: error.code, message: error.message });
}

/**
 * The HTTP tunnel endpoints (PROTOCOL.md section 23): `POST /meshsync/v1/tunnel` opens one,
 * `POST .../<id>/send` delivers frames, `POST .../<id>/poll` waits for frames. Every body is
 * size-limited and parsed strictly; ids are 16 random bytes.
 */
export class TunnelServer {
  private readonly tunnels = new Map<string, TunnelTransport>();
  /** Poll answers still being written. */
  private readonly writing = new Set<Promise<void>>();

  constructor(
    private readonly timing: TunnelTiming,
    private readonly hooks: TunnelServerHooks,
  ) {}

  get count(): number {
    return this.tunnels.size;
  }

  install(app: Express): void {
    const raw = express.raw({ type: () => true, limit: MAX_TUNNEL_BODY_BYTES, inflate: false });
    const small = express.raw({ type: () => true, limit: 64, inflate: false });
    app.post(DIRECT_PATHS.tunnel, small, (req, res) => this.open(req, res));
    app.post(`${DIRECT_PATHS.tunnel}/:id/send`, raw, (req, res) => this.send(req, res));
    app.post(`${DIRECT_PATHS.tunnel}/:id/poll`, raw, (req, res) => this.poll(req, res));
    for (const path of [
      DIRECT_PATHS.tunnel,
      `${DIRECT_PATHS.tunnel}/:id/send`,
      `${DIRECT_PATHS.tunnel}/:id/poll`,
    ]) {
      app.all(path, (_req, res) => {
        res.set('allow', 'POST');
        sendError(res, new MeshsyncError('BAD_MESSAGE', 'method not allowed: use POST'), 405);
      });
    }
    // Errors of the body parsers: too large, aborted, encoded.
    app.use(
      `${DIRECT_PATHS.tunnel}`,
      (err: unknown, _req: Request, res: Response, next: NextFunction): void => {
        if (!isBodyError(err)) return next(err);
        sendError(
          res,
          err.status === 413
            ? new MeshsyncError('FRAME_TOO_LARGE', `body over ${MAX_TUNNEL_BODY_BYTES} bytes`)
            : new MeshsyncError('BAD_FRAME', `unreadable body: ${err.message}`),
        );
      },
    );
  }

  /**
   * Ends every tunnel (the server stops): held polls get the goodbye. Resolves once those
   * answers are written, or after `graceMs`.
   */
  async endAll(reason: string, graceMs = 1000): Promise<void> {
    for (const tunnel of [...this.tunnels.values()]) tunnel.end(reason);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(this.writing),
      new Promise((resolve) => (timer = setTimeout(resolve, graceMs))),
    ]);
    clearTimeout(timer);
  }

  private open(req: Request, res: Response): void {
    const address = req.socket.remoteAddress ?? '';
    if (bodyOf(req).length > 0) {
      return sendError(res, new MeshsyncError('BAD_FRAME', 'a tunnel open has no body'));
    }
    const refusal = this.hooks.admit(address);
    if (refusal) return sendError(res, refusal);
    const id = toBase64url(randomBytes(16));
    const tunnel = new TunnelTransport(id, this.timing, () => this.tunnels.delete(id));
    this.tunnels.set(id, tunnel);
    res
      .status(201)
      .set('cache-control', 'no-store')
      .json({ v: TUNNEL_VERSION, tunnel: id, pollMs: this.timing.pollMs });
    this.hooks.accept(tunnel, address);
  }

  private send(req: Request, res: Response): void {
    try {
      this.find(req).receive(parseTunnelBody(bodyOf(req)));
      res.status(204).end();
    } catch (err) {
      sendError(res, toMeshsyncError(err, 'BAD_FRAME'));
    }
  }

  private poll(req: Request, res: Response): void {
    let answered = false;
    const answer: PollAnswer = (body) => {
      answered = true;
      if (res.destroyed) return;
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': body.length,
        'cache-control': 'no-store',
      });
      const written = new Promise<void>((resolve) => {
        res.once('finish', resolve);
        res.once('close', resolve);
      });
      this.writing.add(written);
      void written.then(() => this.writing.delete(written));
      res.end(body);
    };
    try {
      const tunnel = this.find(req);
      const body = parseTunnelBody(bodyOf(req));
      if (body.frames.length > 0 || body.close !== null) {
        throw new MeshsyncError('BAD_FRAME', 'a poll carries no records');
      }
      res.on('close', () => {
        if (!answered) tunnel.pollGone(answer);
      });
      tunnel.poll(body.seq, answer);
    } catch (err) {
      sendError(res, toMeshsyncError(err, 'BAD_FRAME'));
    }
  }

  private find(req: Request): TunnelTransport {
    const id = req.params.id;
    const tunnel = typeof id === 'string' && TUNNEL_ID.test(id) ? this.tunnels.get(id) : undefined;
    if (!tunnel) throw new MeshsyncError('NOT_FOUND', 'no such tunnel');
    return tunnel;
  }
}

function bodyOf(req: Request): Uint8Array {
  const body: unknown = req.body;
  return body instanceof Uint8Array ? body : new Uint8Array(0);
}

function isBodyError(err: unknown): err is { status: number; message: string } {
  return (
    typeof err === 'object' &&
    err !== null &&
    'type' in err &&
    typeof (err as { status?: unknown }).status === 'number'
  );
}
