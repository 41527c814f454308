import type { Unsubscribe } from '../../shared/emitter.js';
import { MeshsyncError, toMeshsyncError } from '../../shared/errors.js';
import { LIMITS } from '../../shared/limits.js';
import { tunnelPath } from '../../shared/direct/direct-paths.js';
import { MAX_JSON_ANSWER_BYTES } from '../../shared/direct/tunnel-answers.js';
import {
  MAX_TUNNEL_BODY_BYTES,
  encodeTunnelBody,
  parseTunnelBody,
} from '../../shared/direct/tunnel-body.js';
import type { FetchLike } from './fetch-port.js';
import { FrameOutbox } from './frame-outbox.js';
import { answerError, postBytes, type PostAnswer } from './http-post.js';
import { TransportEmitter } from './transport-emitter.js';
import type { Transport, TransportEvents } from './transport-port.js';

export interface HttpTransportOptions {
  fetch: FetchLike;
  /** The endpoint's base URL, e.g. `http://192.168.1.20:8788` (from `endpointUrl`). */
  baseUrl: string;
  /** The tunnel id and poll window from the server's answer to the open request. */
  tunnel: string;
  pollMs: number;
  /** A send request must be answered within this; a poll within this plus the poll window. @default 30000 */
  requestTimeoutMs?: number;
  /** `send()` resolves once at most this many bytes wait to go out. @default 2097152 */
  highWaterBytes?: number;
}

/**
 * The client end of an HTTP tunnel (PROTOCOL.md section 23): frames go out in POST bodies, one
 * send request at a time, each numbered, batching what was queued meanwhile; one poll request is
 * always outstanding, and the server answers it as soon as it has frames (or empty after the
 * poll window). So either side can send at any time: `streaming` is true, with one request's
 * latency. A request that fails closes the transport (a lost answer would lose frames).
 */
export class HttpTransport implements Transport {
  readonly kind = 'http';
  readonly streaming = true;
  readonly maxFrameBytes = LIMITS.maxFrameBytes;
  private readonly emitter = new TransportEmitter();
  private readonly requestTimeoutMs: number;
  private readonly polls = new AbortController();
  /** Frames queued or in the send request under way. */
  private readonly queue: FrameOutbox;
  /** The goodbye still to send, once the queue is out. */
  private goodbye: string | null = null;
  private sendSeq = 0;
  private sending = false;
  private closed = false;

  constructor(private readonly options: HttpTransportOptions) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.queue = new FrameOutbox(this.maxFrameBytes, options.highWaterBytes ?? 2 * 1024 * 1024);
    void this.pollLoop();
  }

  send(frame: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new MeshsyncError('CLOSED', 'http transport is closed'));
    const queued = this.queue.push(frame);
    this.pump();
    return queued;
  }

  /** Closes now; the frames already handed over still go, then a goodbye with the reason. */
  close(reason = 'closed'): void {
    if (this.closed) return;
    this.goodbye = reason;
    this.shut({ reason });
    this.pump();
  }

  on<K extends keyof TransportEvents>(
    event: K,
    listener: (payload: TransportEvents[K]) => void,
  ): Unsubscribe {
    return this.emitter.on(event, listener);
  }

  private pump(): void {
    if (this.sending || (this.queue.length === 0 && this.goodbye === null)) return;
    this.sending = true;
    void this.sendBatch().finally(() => {
      this.sending = false;
      this.pump();
    });
  }

  private async sendBatch(): Promise<void> {
    const frames = this.queue.take();
    const close = this.queue.length === 0 ? this.goodbye : null;
    if (close !== null) this.goodbye = null;
    const body = encodeTunnelBody(this.sendSeq++, frames, close);
    try {
      const answer = await this.post('send', body, this.requestTimeoutMs, MAX_JSON_ANSWER_BYTES);
      if (answer.status !== 204) throw this.refusal(answer);
      this.queue.delivered(frames);
    } catch (err) {
      this.fail(toMeshsyncError(err, 'CLOSED'));
    }
  }

  private async pollLoop(): Promise<void> {
    for (let seq = 0; !this.closed; seq++) {
      try {
        const answer = await this.post(
          'poll',
          encodeTunnelBody(seq, []),
          this.options.pollMs + this.requestTimeoutMs,
          MAX_TUNNEL_BODY_BYTES,
          this.polls.signal,
        );
        if (answer.status !== 200) throw this.refusal(answer);
        const body = parseTunnelBody(answer.body);
        if (body.seq !== seq) {
          throw new MeshsyncError('BAD_FRAME', `poll ${seq} answered as poll ${body.seq}`);
        }
        if (this.closed) return;
        for (const frame of body.frames) this.emitter.deliver(frame);
        if (body.close !== null) {
          this.queue.clear();
          return this.shut({ reason: body.close || 'closed by the other side' });
        }
      } catch (err) {
        if (!this.closed) this.fail(toMeshsyncError(err, 'CLOSED'));
        return;
      }
    }
  }

  private post(
    action: 'send' | 'poll',
    body: Uint8Array<ArrayBuffer>,
    timeoutMs: number,
    maxBytes: number,
    signal?: AbortSignal,
  ): Promise<PostAnswer> {
    const url = `${this.options.baseUrl}${tunnelPath(this.options.tunnel, action)}`;
    return postBytes(this.options.fetch, url, body, {
      timeoutMs,
      maxBytes,
      failCode: 'CLOSED',
      ...(signal ? { signal } : {}),
    });
  }

  /** A refused request; a tunnel the server no longer has reads as CLOSED. */
  private refusal(answer: PostAnswer): MeshsyncError {
    const error = answerError(answer, 'REMOTE_ERROR');
    const gone = answer.status === 404 || answer.status === 410 || error.code === 'CLOSED';
    if (!gone) return error;
    return new MeshsyncError('CLOSED', `tunnel closed by the server (${error.message})`, {
      details: { status: answer.status },
    });
  }

  /** A request failed: nothing queued is sent, and no goodbye (the tunnel is broken). */
  private fail(error: MeshsyncError): void {
    this.queue.clear();
    this.goodbye = null;
    this.shut({ reason: error.message, error });
  }

  private shut(payload: TransportEvents['close']): void {
    if (this.closed) return;
    this.closed = true;
    this.polls.abort();
    this.queue.release();
    this.emitter.closed(payload);
  }
}
