import { Emitter } from '../../shared/emitter.js';
import { MeshsyncError, isErrorCode, toMeshsyncError } from '../../shared/errors.js';
import type { CollectionName, DeviceId } from '../../shared/ids.js';
import { DEFAULTS, LIMITS, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION } from '../../shared/limits.js';
import type { Logger } from '../../shared/log.js';
import { decodeFrame, encodeChangesFrame, encodeMessage } from '../../shared/protocol/codec.js';
import type {
  AckMessage,
  ChangesMessage,
  HelloMessage,
  Message,
} from '../../shared/protocol/messages.js';
import { filterKey, type Replica } from '../replica.js';
import type { Transport } from '../transport/transport-port.js';
import { Coalescer } from './coalesce.js';
import { buildPage } from './page-builder.js';
import {
  realTimers,
  type SessionEvents,
  type SessionState,
  type SessionStatus,
  type SyncOptions,
  type SyncResult,
  type Timers,
} from './session-types.js';

interface Remote {
  device: DeviceId;
  epoch: string;
  want: ReadonlySet<string> | null;
  wantList: CollectionName[] | null;
  maxFrame: number;
  caps: readonly string[];
}

interface Pending {
  expect: 'changes' | 'ack';
  resolve: (value: { message: Message; bytes: number }) => void;
  reject: (err: MeshsyncError) => void;
  timer: unknown;
}

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
  private cursorIn = 0;
  private cursorOut = 0;
  private nextReq = 1;
  private readonly pending = new Map<number, Pending>();
  private inbound: Promise<void> = Promise.resolve();
  private readonly readyPromise: Promise<void>;
  private resolveReady!: () => void;
  private rejectReady!: (err: MeshsyncError) => void;
  private readonly pulls = new Coalescer(() => this.runPull());
  private readonly pushes = new Coalescer(() => this.runPush());
  private handshakeTimer: unknown;
  private changedTimer: unknown;
  private changedHead = 0;
  private protocolErrors = 0;
  private readonly unsubscribe: Array<() => void> = [];
  private readonly want: ReadonlySet<string> | null;
  private readonly wantList: CollectionName[] | null;
  private readonly timers: Timers;
  private readonly logger: Logger;
  private readonly opts: Required<Omit<SyncOptions, 'want' | 'timers' | 'logger'>>;
  private readonly stats = {
    rowsIn: 0,
    rowsOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    lastPullAt: null as number | null,
    lastPushAt: null as number | null,
    lastError: null as { code: string; message: string } | null,
    closeReason: null as string | null,
  };

  constructor(
    private readonly replica: Replica,
    readonly transport: Transport,
    options: SyncOptions = {},
  ) {
    const want = options.want ?? null;
    this.wantList = want === null ? null : ([...new Set(want)].sort() as CollectionName[]);
    this.want = this.wantList === null ? null : new Set(this.wantList);
    this.timers = options.timers ?? realTimers;
    this.logger = options.logger ?? replica.logger;
    this.opts = {
      pageRows: options.pageRows ?? DEFAULTS.pageRows,
      pageBytes: options.pageBytes ?? DEFAULTS.pageBytes,
      requestTimeoutMs: options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? DEFAULTS.handshakeTimeoutMs,
      changedDebounceMs: options.changedDebounceMs ?? DEFAULTS.changedDebounceMs,
      autoPull: options.autoPull ?? true,
      maxProtocolErrors: options.maxProtocolErrors ?? 32,
      capabilities: options.capabilities ?? [],
    };
    this.readyPromise = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.readyPromise.catch(() => undefined); // observed through whenReady() or 'closed'
  }

  get state(): SessionState {
    return this.stateValue;
  }

  /** The remote device, once its hello has arrived. */
  get remoteDevice(): DeviceId | null {
    return this.remote?.device ?? null;
  }

  /** Starts the handshake. Idempotent. */
  start(): this {
    if (this.handshakeTimer !== undefined || this.stateValue !== 'handshaking') return this;
    this.unsubscribe.push(
      this.transport.on('message', (frame) => {
        this.inbound = this.inbound.then(() => this.handle(frame));
      }),
      this.transport.on('close', ({ reason, error }) =>
        this.finish(`transport closed: ${reason}`, error, false),
      ),
    );
    this.handshakeTimer = this.timers.setTimeout(() => {
      if (this.stateValue === 'handshaking') {
        this.finish(
          'handshake timed out',
          new MeshsyncError('TIMEOUT', 'handshake timed out'),
          true,
        );
      }
    }, this.opts.handshakeTimeoutMs);
    const hello: HelloMessage = {
      type: 'hello',
      min: MIN_PROTOCOL_VERSION,
      max: PROTOCOL_VERSION,
      device: this.replica.device,
      epoch: this.replica.epoch,
      caps: [...this.opts.capabilities],
      want: this.wantList,
      maxFrame: LIMITS.maxFrameBytes,
    };
    this.send(encodeMessage(hello));
    return this;
  }

  /** Resolves when both handshakes are done; rejects if the session closes first. */
  whenReady(): Promise<void> {
    return this.readyPromise;
  }

  /** Pulls the remote's changes until caught up. Concurrent calls share work. */
  pull(): Promise<SyncResult> {
    return this.pulls.run();
  }

  /** Pushes our changes to the remote until it has acknowledged all of them. */
  push(): Promise<SyncResult> {
    return this.pushes.run();
  }

  /** Pull and push at once. */
  async sync(): Promise<{ pull: SyncResult; push: SyncResult }> {
    const [pull, push] = await Promise.all([this.pull(), this.push()]);
    return { pull, push };
  }

  /** Tells the remote (debounced) that we have changes up to `head`. */
  notifyChanged(head: number): void {
    if (this.stateValue !== 'ready' || !this.transport.streaming) return;
    this.changedHead = Math.max(this.changedHead, head);
    if (this.changedTimer !== undefined) return;
    this.changedTimer = this.timers.setTimeout(() => {
      this.changedTimer = undefined;
      if (this.stateValue === 'ready')
        this.send(encodeMessage({ type: 'changed', head: this.changedHead }));
    }, this.opts.changedDebounceMs);
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
      cursorIn: this.cursorIn,
      cursorOut: this.cursorOut,
      ...this.stats,
    };
  }

  // ---- inbound ------------------------------------------------------------------------

  private async handle(frame: Uint8Array): Promise<void> {
    if (this.stateValue === 'closed') return;
    let message: Message;
    try {
      message = decodeFrame(frame);
    } catch (err) {
      this.protocolError(toMeshsyncError(err, 'BAD_FRAME'), 0);
      return;
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
        if (!this.welcomed) {
          this.welcomed = true;
          this.cursorOut = message.cursor;
          this.maybeReady();
        } else {
          // A later welcome: the remote's cursor after a pull, so our pushes can skip that much.
          this.cursorOut = Math.max(this.cursorOut, message.cursor);
        }
        return;
      case 'pull':
        return this.servePull(message.req, message.after, message.rows, message.bytes);
      case 'changes':
        if (message.push) return this.servePush(message, bytes);
        return this.settle(message.req, 'changes', message, bytes);
      case 'ack':
        return this.settle(message.req, 'ack', message, bytes);
      case 'changed':
        if (this.stateValue === 'ready' && this.opts.autoPull && message.head > this.cursorIn)
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
    const version = Math.min(hello.max, PROTOCOL_VERSION);
    if (hello.min > hello.max || version < Math.max(hello.min, MIN_PROTOCOL_VERSION)) {
      const error = new MeshsyncError(
        'PROTOCOL_VERSION',
        `no common protocol version (remote ${hello.min}-${hello.max})`,
      );
      this.sendError(0, error);
      return this.finish(error.message, error, true);
    }
    if (hello.device === this.replica.device) {
      const error = new MeshsyncError('PROTOCOL_STATE', 'remote uses our own device id');
      this.sendError(0, error);
      return this.finish(error.message, error, true);
    }
    const want = hello.want === null ? null : [...new Set(hello.want)].sort();
    this.remote = {
      device: hello.device,
      epoch: hello.epoch,
      want: want === null ? null : new Set(want),
      wantList: want,
      maxFrame: hello.maxFrame,
      caps: hello.caps,
    };
    this.cursorIn = await this.replica.cursorFor(
      hello.device,
      hello.epoch,
      filterKey(this.wantList),
    );
    this.send(encodeMessage({ type: 'welcome', cursor: this.cursorIn }));
    this.welcomeSent = true;
    this.maybeReady();
  }

  private maybeReady(): void {
    if (this.stateValue !== 'handshaking' || !this.remote || !this.welcomed || !this.welcomeSent)
      return;
    this.stateValue = 'ready';
    this.timers.clearTimeout(this.handshakeTimer);
    this.resolveReady();
    this.events.emit('ready', { remote: this.remote.device });
    if (this.opts.autoPull) this.backgroundPull();
  }

  private async servePull(req: number, after: number, rows: number, bytes: number): Promise<void> {
    const remote = this.requireRemote(req);
    if (!remote) return;
    // The remote has applied our changes up to `after`: no need to push those again.
    this.cursorOut = Math.max(this.cursorOut, after);
    const maxBytes = Math.floor((remote.maxFrame - 4096) / 3);
    const page = await buildPage(this.replica.store, remote.device, after, remote.want, {
      rows: Math.min(rows, this.opts.pageRows * 4, LIMITS.maxPageRows),
      bytes: Math.min(bytes, maxBytes),
    });
    const frame = encodeChangesFrame(
      { req, push: false, from: after, to: page.to, head: page.head, more: page.more },
      page.rowJsons,
    );
    this.stats.rowsOut += page.rowJsons.length;
    await this.sendAsync(frame);
  }

  private async servePush(message: ChangesMessage, bytes: number): Promise<void> {
    const remote = this.requireRemote(message.req);
    if (!remote) return;
    let cursor: number;
    try {
      ({ cursor } = await this.replica.applyPage(remote.device, remote.epoch, this.want, message));
      this.stats.rowsIn += message.rows.length;
    } catch (err) {
      const error = toMeshsyncError(err, 'STORE_FAILED');
      if (error.code !== 'CURSOR_GAP') {
        this.sendError(message.req, error);
        this.noteError(error);
        return;
      }
      // A gap: tell the sender where we really are; it resends from there.
      cursor = await this.replica.cursorFor(remote.device, remote.epoch, filterKey(this.wantList));
    }
    this.cursorIn = Math.max(this.cursorIn, cursor);
    const ack: AckMessage = { type: 'ack', req: message.req, cursor };
    this.send(encodeMessage(ack));
    this.events.emit('progress', {
      direction: 'pull',
      pages: 1,
      rows: message.rows.length,
      bytes,
      cursor,
      head: message.head,
      pending: message.head - cursor,
    });
  }

  private settle(req: number, type: 'changes' | 'ack', message: Message, bytes: number): void {
    const pending = this.pending.get(req);
    if (!pending || pending.expect !== type) {
      this.logger.debug('reply to no pending request', { req, type });
      return;
    }
    this.pending.delete(req);
    this.timers.clearTimeout(pending.timer);
    pending.resolve({ message, bytes });
  }

  private onRemoteError(req: number, code: string, text: string): void {
    const remoteCode = isErrorCode(code) ? code : 'REMOTE_ERROR';
    const error = new MeshsyncError('REMOTE_ERROR', `peer refused: ${code}: ${text}`, {
      details: { remoteCode: code },
    });
    const pending = req === 0 ? undefined : this.pending.get(req);
    if (pending) {
      this.pending.delete(req);
      this.timers.clearTimeout(pending.timer);
      pending.reject(error);
    } else {
      this.noteError(error);
    }
    if (req === 0 && remoteCode === 'PROTOCOL_VERSION') this.finish(error.message, error, false);
  }

  private requireRemote(req: number): Remote | undefined {
    if (this.remote && this.welcomeSent) return this.remote;
    this.protocolError(new MeshsyncError('PROTOCOL_STATE', 'request before handshake'), req);
    return undefined;
  }

  private protocolError(error: MeshsyncError, req: number): void {
    this.protocolErrors++;
    this.logger.warn('bad input from peer dropped', {
      code: error.code,
      message: error.message,
      peer: this.remote?.device,
    });
    this.noteError(error);
    this.sendError(req, error);
    if (this.protocolErrors > this.opts.maxProtocolErrors) {
      this.finish('too many protocol errors', error, true);
    }
  }

  // ---- outbound -----------------------------------------------------------------------

  private backgroundPull(): void {
    this.pull().catch((err: unknown) => {
      if (this.stateValue !== 'closed') this.noteError(toMeshsyncError(err, 'STORE_FAILED'));
    });
  }

  private async runPull(): Promise<SyncResult> {
    await this.whenReady();
    const remote = this.remote!;
    const result: SyncResult = {
      direction: 'pull',
      pages: 0,
      rows: 0,
      bytes: 0,
      cursor: this.cursorIn,
    };
    for (;;) {
      const after = this.cursorIn;
      const req = this.nextReq++;
      const { message, bytes } = await this.request(
        req,
        'changes',
        encodeMessage({
          type: 'pull',
          req,
          after,
          rows: this.opts.pageRows,
          bytes: this.opts.pageBytes,
        }),
      );
      const page = message as ChangesMessage;
      if (page.from !== after)
        throw new MeshsyncError('BAD_MESSAGE', `pull answered from ${page.from}, asked ${after}`);
      const { cursor } = await this.replica.applyPage(remote.device, remote.epoch, this.want, page);
      this.cursorIn = Math.max(this.cursorIn, cursor);
      this.stats.rowsIn += page.rows.length;
      result.pages++;
      result.rows += page.rows.length;
      result.bytes += bytes;
      result.cursor = this.cursorIn;
      this.events.emit('progress', {
        ...result,
        head: page.head,
        pending: page.head - this.cursorIn,
      });
      if (!page.more) {
        // A later welcome tells the remote how far we got, so its pushes start there.
        this.send(encodeMessage({ type: 'welcome', cursor: this.cursorIn }));
        break;
      }
    }
    this.stats.lastPullAt = Date.now();
    this.events.emit('synced', result);
    return result;
  }

  private async runPush(): Promise<SyncResult> {
    await this.whenReady();
    const remote = this.remote!;
    const result: SyncResult = {
      direction: 'push',
      pages: 0,
      rows: 0,
      bytes: 0,
      cursor: this.cursorOut,
    };
    let stalls = 0;
    for (;;) {
      const after = this.cursorOut;
      const page = await buildPage(this.replica.store, remote.device, after, remote.want, {
        rows: this.opts.pageRows,
        bytes: Math.min(this.opts.pageBytes, Math.floor((remote.maxFrame - 4096) / 3)),
      });
      if (page.to === after && !page.more) break;
      const req = this.nextReq++;
      const frame = encodeChangesFrame(
        { req, push: true, from: after, to: page.to, head: page.head, more: page.more },
        page.rowJsons,
      );
      const { message } = await this.request(req, 'ack', frame);
      const acked = (message as AckMessage).cursor;
      stalls = acked <= after ? stalls + 1 : 0;
      if (stalls > 2) throw new MeshsyncError('CURSOR_GAP', `peer does not advance past ${acked}`);
      this.cursorOut = acked;
      this.stats.rowsOut += page.rowJsons.length;
      result.pages++;
      result.rows += page.rowJsons.length;
      result.bytes += frame.length;
      result.cursor = acked;
      this.events.emit('progress', {
        ...result,
        head: page.head,
        pending: Math.max(0, page.head - acked),
      });
      if (!page.more && acked >= page.to) break;
    }
    this.stats.lastPushAt = Date.now();
    this.events.emit('synced', result);
    return result;
  }

  private request(
    req: number,
    expect: 'changes' | 'ack',
    frame: Uint8Array,
  ): Promise<{ message: Message; bytes: number }> {
    if (this.stateValue === 'closed')
      return Promise.reject(new MeshsyncError('CLOSED', 'session is closed'));
    return new Promise((resolve, reject) => {
      const timer = this.timers.setTimeout(() => {
        if (this.pending.delete(req))
          reject(new MeshsyncError('TIMEOUT', `no answer to request ${req}`));
      }, this.opts.requestTimeoutMs);
      this.pending.set(req, { expect, resolve, reject, timer });
      this.send(frame);
    });
  }

  private send(frame: Uint8Array): void {
    this.sendAsync(frame).catch(() => undefined); // failures close the session in sendAsync
  }

  private async sendAsync(frame: Uint8Array): Promise<void> {
    if (this.stateValue === 'closed') return;
    try {
      this.stats.bytesOut += frame.length;
      await this.transport.send(frame);
    } catch (err) {
      this.finish('send failed', toMeshsyncError(err, 'CLOSED'), false);
    }
  }

  private sendError(req: number, error: MeshsyncError): void {
    const message = error.message.slice(0, LIMITS.maxErrorMessage);
    this.send(encodeMessage({ type: 'error', req, code: error.code, message }));
  }

  private noteError(error: MeshsyncError): void {
    this.stats.lastError = { code: error.code, message: error.message };
    this.events.emit('error', error);
  }

  private finish(reason: string, error: MeshsyncError | undefined, sayBye: boolean): void {
    if (this.stateValue === 'closed') return;
    if (sayBye) this.send(encodeMessage({ type: 'bye', reason: reason.slice(0, 200) }));
    this.stateValue = 'closed';
    this.stats.closeReason = reason;
    this.timers.clearTimeout(this.handshakeTimer);
    if (this.changedTimer !== undefined) this.timers.clearTimeout(this.changedTimer);
    const closed = error ?? new MeshsyncError('CLOSED', `session closed: ${reason}`);
    for (const pending of this.pending.values()) {
      this.timers.clearTimeout(pending.timer);
      pending.reject(new MeshsyncError('CLOSED', `session closed: ${reason}`));
    }
    this.pending.clear();
    this.rejectReady(closed);
    for (const off of this.unsubscribe) off();
    this.transport.close(reason);
    this.events.emit('closed', error ? { reason, error } : { reason });
  }
}
