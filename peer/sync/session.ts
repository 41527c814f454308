import { Emitter } from '../../shared/emitter.js';
import { MeshsyncError, isErrorCode, toMeshsyncError } from '../../shared/errors.js';
import type { CollectionName, DeviceId } from '../../shared/ids.js';
import { originTag, type OriginTag } from '../../shared/record.js';
import type { Logger } from '../../shared/log.js';
import { decodeFrame, encodeMessage, peekRequestId } from '../../shared/protocol/codec.js';
import type { HelloMessage, Message } from '../../shared/protocol/messages.js';
import { filterKey, type Replica } from '../replica.js';
import type { Transport } from '../transport/transport-port.js';
import { Coalescer } from './coalesce.js';
import { acceptHello, buildHello, normaliseWant, type Remote } from './handshake.js';
import { MaxDebouncer } from './debouncer.js';
import { Outbox } from './outbox.js';
import { PageAhead } from './page-ahead.js';
import { PendingRequests } from './pending-requests.js';
import { acceptPush, answerPull } from './serve.js';
import { pullLoop, pushLoop, type TransferContext } from './transfer.js';
import {
  emptyStats,
  realTimers,
  resolveSyncOptions,
  type ResolvedSyncOptions,
  type SessionEvents,
  type SessionState,
  type SessionStatus,
  type SyncOptions,
  type SyncResult,
  type Timers,
} from './session-types.js';

const NEVER_ABORTED = new AbortController().signal;

/**
 * One sync session over one transport with one remote device. Symmetric: both sides send
 * `hello` and `welcome`, then either side may pull or push at any time, both at once included.
 * Inbound frames are handled one at a time, in order.
 */
export class SyncSession {
  readonly events = new Emitter<SessionEvents>();
  private stateValue: SessionState = 'handshaking';
  private remote: Remote | undefined;
  private welcomed = false;
  private welcomeSent = false;
  /** Our cursor into the remote's changes (in), and the remote's into ours (out). */
  private readonly cursors = { in: 0, out: 0 };
  private inbound: Promise<void> = Promise.resolve();
  private readonly ready: Promise<void>;
  private settleReady!: (err?: MeshsyncError) => void;
  private readonly requests: PendingRequests;
  private readonly out: Outbox;
  private readonly pulls = new Coalescer((signal) => this.transfer(pullLoop, signal));
  private readonly pushes = new Coalescer((signal) => this.transfer(pushLoop, signal));
  private handshakeTimer: unknown;
  private readonly changed: MaxDebouncer;
  private protocolErrors = 0;
  /** The epoch we announced; cursors the remote sends refer to it. */
  private helloEpoch = '';
  private readonly unsubscribe: Array<() => void> = [];
  private readonly want: ReadonlySet<string> | null;
  private readonly wantList: CollectionName[] | null;
  private readonly timers: Timers;
  private readonly logger: Logger;
  private readonly opts: ResolvedSyncOptions;
  private readonly stats = emptyStats();
  private readonly ahead = new PageAhead();

  constructor(
    private readonly replica: Replica,
    readonly transport: Transport,
    options: SyncOptions = {},
  ) {
    this.opts = resolveSyncOptions(options);
    this.wantList = normaliseWant(options.want ?? null);
    this.want = this.wantList === null ? null : new Set(this.wantList);
    this.timers = options.timers ?? realTimers;
    this.logger = options.logger ?? replica.logger;
    this.requests = new PendingRequests(this.timers, this.opts.requestTimeoutMs);
    this.out = new Outbox(
      transport,
      this.stats,
      () => this.stateValue === 'closed',
      (error) => this.finish('send failed', error, false),
    );
    this.changed = new MaxDebouncer(this.timers, this.opts.changedDebounceMs, (head) => {
      if (this.stateValue === 'ready') this.out.send(encodeMessage({ type: 'changed', head }));
    });
    this.ready = new Promise<void>((resolve, reject) => {
      this.settleReady = (err) => (err ? reject(err) : resolve());
    });
    this.ready.catch(() => undefined); // observed through whenReady() or 'closed'
  }

  get state(): SessionState {
    return this.stateValue;
  }

  /** The remote device and store epoch, once its hello has arrived. */
  get remoteOrigin(): OriginTag | null {
    return this.remote ? originTag(this.remote.device, this.remote.epoch) : null;
  }

  /** The remote device, once its hello has arrived. */
  get remoteDevice(): DeviceId | null {
    return this.remote?.device ?? null;
  }

  /** Starts the handshake. Idempotent. */
  start(): this {
    if (this.handshakeTimer !== undefined || this.stateValue !== 'handshaking') return this;
    this.unsubscribe.push(
      ...this.requests.watch(this.transport),
      this.transport.on('message', (frame) => {
        this.inbound = this.inbound.then(() => this.handle(frame));
      }),
      this.transport.on('close', ({ reason, error }) =>
        this.finish(`transport closed: ${reason}`, error, false),
      ),
    );
    this.handshakeTimer = this.timers.setTimeout(() => {
      const error = new MeshsyncError('TIMEOUT', 'handshake timed out');
      if (this.stateValue === 'handshaking') this.finish(error.message, error, true);
    }, this.opts.handshakeTimeoutMs);
    const { device, epoch } = this.replica;
    this.helloEpoch = epoch;
    const hello = buildHello(device, epoch, this.wantList, this.opts.capabilities, this.transport);
    this.out.send(encodeMessage(hello));
    return this;
  }

  /** Resolves when both handshakes are done; rejects if the session closes first. */
  whenReady(): Promise<void> {
    return this.ready;
  }

  /**
   * Pulls the remote's changes until caught up. Concurrent calls share work. With `signal`, the
   * call rejects with `ABORTED` when it aborts, and the pull stops at the next page boundary
   * unless another caller still waits for it.
   */
  pull(options: { signal?: AbortSignal } = {}): Promise<SyncResult> {
    return this.pulls.run(options.signal);
  }

  /** Pushes our changes until the remote has acknowledged all of them. Same `signal` rules. */
  push(options: { signal?: AbortSignal } = {}): Promise<SyncResult> {
    return this.pushes.run(options.signal);
  }

  /** Pull and push at once. */
  async sync(
    options: { signal?: AbortSignal } = {},
  ): Promise<{ pull: SyncResult; push: SyncResult }> {
    const [pull, push] = await Promise.all([this.pull(options), this.push(options)]);
    return { pull, push };
  }

  /** Tells the remote (debounced) that we have changes up to `head`. */
  notifyChanged(head: number): void {
    if (this.stateValue !== 'ready' || !this.transport.streaming) return;
    this.changed.push(head);
  }

  close(reason = 'closed'): void {
    this.finish(reason, undefined, true);
  }

  status(): SessionStatus {
    return {
      state: this.stateValue,
      transport: this.transport.kind,
      remote: this.remote?.device ?? null,
      remoteWants: this.remote?.wantList ?? null,
      cursorIn: this.cursors.in,
      cursorOut: this.cursors.out,
      ...this.stats,
    };
  }

  private async handle(frame: Uint8Array): Promise<void> {
    if (this.stateValue === 'closed') return;
    let message: Message;
    try {
      message = decodeFrame(frame);
    } catch (err) {
      const error = toMeshsyncError(err, 'BAD_FRAME');
      // If it names one of our requests, fail that request now instead of at its timeout.
      const req = peekRequestId(frame);
      if (req !== undefined) this.requests.fail(req, error);
      return this.protocolError(error, req ?? 0);
    }
    this.stats.bytesIn += frame.length;
    try {
      await this.dispatch(message, frame.length);
    } catch (err) {
      const error = toMeshsyncError(err, 'STORE_FAILED');
      this.logger.warn('sync message failed', {
        type: message.type,
        code: error.code,
        peer: this.remote?.device,
      });
      this.noteError(error);
    }
  }

  private async dispatch(message: Message, bytes: number): Promise<void> {
    switch (message.type) {
      case 'hello':
        return this.onHello(message);
      case 'welcome':
        if (!this.remote)
          return this.protocolError(new MeshsyncError('PROTOCOL_STATE', 'welcome before hello'), 0);
        if (await this.cursorPastHead(message.cursor)) return;
        // The first welcome ends the handshake; later ones report the remote's cursor after a pull.
        this.cursors.out = this.welcomed
          ? Math.max(this.cursors.out, message.cursor)
          : message.cursor;
        this.welcomed = true;
        return this.maybeReady();
      case 'pull': {
        const remote = this.requireRemote(message.req);
        if (!remote) return;
        if (await this.cursorPastHead(message.after)) return;
        return answerPull(this.context(), message);
      }
      case 'changes':
        if (message.push) {
          if (!this.requireRemote(message.req)) return;
          return acceptPush(this.context(), message, bytes, this.wantList);
        }
        if (!this.requests.settle(message.req, { message, bytes }))
          this.logger.debug('unexpected page', { req: message.req });
        return;
      case 'ack':
        if (!this.requests.settle(message.req, { message, bytes }))
          this.logger.debug('unexpected ack', { req: message.req });
        return;
      case 'changed':
        if (this.stateValue === 'ready' && this.opts.autoPull && message.head > this.cursors.in)
          this.backgroundPull();
        return;
      case 'error':
        return this.onRemoteError(message.req, message.code, message.message);
      case 'bye':
        return this.finish(`remote closed: ${message.reason}`, undefined, false);
    }
  }

  private async onHello(hello: HelloMessage): Promise<void> {
    if (this.remote) {
      if (hello.device !== this.remote.device) {
        this.protocolError(
          new MeshsyncError('PROTOCOL_STATE', 'second hello from another device'),
          0,
        );
      }
      return;
    }
    let remote: Remote;
    try {
      remote = acceptHello(hello, this.replica.device, this.transport.remoteDevice);
    } catch (err) {
      const error = toMeshsyncError(err, 'PROTOCOL_STATE');
      this.out.sendError(0, error);
      return this.finish(error.message, error, true);
    }
    this.remote = remote;
    this.cursors.in = await this.replica.cursorFor(
      remote.device,
      remote.epoch,
      filterKey(this.wantList),
    );
    this.out.send(encodeMessage({ type: 'welcome', cursor: this.cursors.in }));
    this.welcomeSent = true;
    this.maybeReady();
  }

  private maybeReady(): void {
    if (this.stateValue !== 'handshaking' || !this.remote || !this.welcomed || !this.welcomeSent)
      return;
    this.stateValue = 'ready';
    this.timers.clearTimeout(this.handshakeTimer);
    this.settleReady();
    this.events.emit('ready', { remote: this.remote.device });
    if (this.opts.autoPull) this.backgroundPull();
  }

  /**
   * A remote cursor past our head means our store is older than what the remote saw: restored
   * from a backup. Rotate the epoch (so every peer starts over) and close; true if it did.
   */
  private async cursorPastHead(cursor: number): Promise<boolean> {
    if (cursor === 0 || cursor <= (await this.replica.head())) return false;
    this.logger.warn('a peer saw more of this store than it holds: rotating the epoch', { cursor });
    const error = new MeshsyncError(
      'CURSOR_GAP',
      `peer's cursor ${cursor} is past our head: store restored? epoch rotated`,
    );
    if (this.replica.epoch === this.helloEpoch) await this.replica.rotateEpoch();
    this.finish(error.message, error, true);
    return true;
  }

  private onRemoteError(req: number, code: string, text: string): void {
    const error = new MeshsyncError('REMOTE_ERROR', `peer refused: ${code}: ${text}`, {
      details: { remoteCode: code },
    });
    if (req === 0 || !this.requests.fail(req, error)) this.noteError(error);
    if (req === 0 && isErrorCode(code) && code === 'PROTOCOL_VERSION')
      this.finish(error.message, error, false);
  }

  private requireRemote(req: number): Remote | undefined {
    if (this.remote && this.welcomeSent) return this.remote;
    this.protocolError(new MeshsyncError('PROTOCOL_STATE', 'request before handshake'), req);
    return undefined;
  }

  private protocolError(error: MeshsyncError, req: number): void {
    this.protocolErrors++;
    this.logger.warn(`bad input from peer dropped: ${error.message}`, {
      peer: this.remote?.device,
    });
    this.noteError(error);
    this.out.sendError(req, error);
    if (this.protocolErrors > this.opts.maxProtocolErrors)
      this.finish('too many protocol errors', error, true);
  }

  private backgroundPull(): void {
    this.pull().catch((err: unknown) => {
      if (this.stateValue !== 'closed') this.noteError(toMeshsyncError(err, 'STORE_FAILED'));
    });
  }

  /** What pull and push loops and page serving need from this session. */
  private context(signal: AbortSignal = NEVER_ABORTED): TransferContext {
    return {
      signal,
      replica: this.replica,
      remote: this.remote!,
      ahead: this.ahead,
      want: this.want,
      options: this.opts,
      cursors: this.cursors,
      stats: this.stats,
      newRequestId: () => this.requests.newId(),
      request: (req, expect, frame, onHead) => this.request(req, expect, frame, onHead),
      send: (frame) => this.out.send(frame),
      sendAsync: (frame) => this.out.sendAsync(frame),
      refuse: (req, error) => {
        this.out.sendError(req, error);
        this.noteError(error);
      },
      progress: (progress) => this.events.emit('progress', progress),
    };
  }

  /** Runs a pull or push loop once the handshake is done. */
  private async transfer(
    loop: (context: TransferContext) => Promise<SyncResult>,
    signal: AbortSignal,
  ): Promise<SyncResult> {
    await this.whenReady();
    const result = await loop(this.context(signal));
    this.events.emit('synced', result);
    return result;
  }

  private request(
    req: number,
    expect: 'changes' | 'ack',
    frame: Uint8Array,
    onHead?: Parameters<PendingRequests['wait']>[2],
  ): ReturnType<PendingRequests['wait']> {
    if (this.stateValue === 'closed')
      return Promise.reject(new MeshsyncError('CLOSED', 'session is closed'));
    const reply = this.requests.wait(req, expect, onHead);
    this.out.send(frame);
    return reply;
  }

  private noteError(error: MeshsyncError): void {
    this.stats.lastError = { code: error.code, message: error.message };
    this.events.emit('error', error);
  }

  private finish(reason: string, error: MeshsyncError | undefined, sayBye: boolean): void {
    if (this.stateValue === 'closed') return;
    if (sayBye) this.out.send(encodeMessage({ type: 'bye', reason: reason.slice(0, 200) }));
    this.stateValue = 'closed';
    this.stats.closeReason = reason;
    this.timers.clearTimeout(this.handshakeTimer);
    this.changed.cancel();
    this.requests.failAll(new MeshsyncError('CLOSED', `session closed: ${reason}`));
    this.settleReady(error ?? new MeshsyncError('CLOSED', `session closed: ${reason}`));
    for (const off of this.unsubscribe) off();
    this.transport.close(reason);
    this.events.emit('closed', error ? { reason, error } : { reason });
  }
}
