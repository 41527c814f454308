import { MeshsyncError } from '../../shared/errors.js';
import { peekPageHead, type PageHead } from '../../shared/protocol/codec.js';
import type { Message } from '../../shared/protocol/messages.js';
import type { Unsubscribe } from '../../shared/emitter.js';
import type { Transport } from '../transport/transport-port.js';
import type { Timers } from './session-types.js';

export interface Reply {
  message: Message;
  /** Size of the reply frame. */
  bytes: number;
}

interface Pending {
  expect: Message['type'];
  resolve: (reply: Reply) => void;
  reject: (err: MeshsyncError) => void;
  timer: unknown;
  onHead: ((head: PageHead) => void) | undefined;
}

/** Our outstanding requests by id, each with its own timeout. Ids are ours alone. */
export class PendingRequests {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly timers: Timers,
    private readonly timeoutMs: number,
  ) {}

  /** A fresh request id (never 0, which means "no request" on the wire). */
  newId(): number {
    const id = this.nextId;
    this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1;
    return id;
  }

  /**
   * Resolves with the reply of type `expect` to request `id`, or rejects on timeout. `onHead`
   * hears, once, the head of a page answering it as soon as the frame arrives (see `arrived`).
   */
  wait(id: number, expect: Message['type'], onHead?: (head: PageHead) => void): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const timer = this.timers.setTimeout(() => {
        if (this.pending.delete(id))
          reject(new MeshsyncError('TIMEOUT', `no answer to request ${id}`));
      }, this.timeoutMs);
      this.pending.set(id, { expect, resolve, reject, timer, onHead });
    });
  }

  /**
   * Hears `transport`'s frames (and first pieces of frames still arriving) before the session
   * decodes them, for `arrived`. Subscribe before the session's own 'message' listener.
   */
  watch(transport: Transport): Unsubscribe[] {
    return [
      transport.on('frameStart', (prefix) => this.arrived(prefix)),
      transport.on('message', (frame) => this.arrived(frame)),
    ];
  }

  /**
   * A frame (or the first piece of one still arriving) waits its turn to be decoded: if it
   * looks like a page answering a request that listens for heads, tell it now (a hint only:
   * the decoded reply decides).
   */
  arrived(frame: Uint8Array): void {
    const head = peekPageHead(frame);
    if (!head) return;
    const entry = this.pending.get(head.req);
    const onHead = entry?.onHead;
    if (!entry || !onHead) return;
    entry.onHead = undefined;
    onHead(head);
  }

  /** Delivers a reply; false (and nothing happens) if no request `id` of that type is waiting. */
  settle(id: number, reply: Reply): boolean {
    const entry = this.pending.get(id);
    if (!entry || entry.expect !== reply.message.type) return false;
    this.pending.delete(id);
    this.timers.clearTimeout(entry.timer);
    entry.resolve(reply);
    return true;
  }

  /** Fails request `id`; false if it was not waiting. */
  fail(id: number, err: MeshsyncError): boolean {
    const entry = this.pending.get(id);
    if (!entry) return false;
    this.pending.delete(id);
    this.timers.clearTimeout(entry.timer);
    entry.reject(err);
    return true;
  }

  failAll(err: MeshsyncError): void {
    for (const id of [...this.pending.keys()]) this.fail(id, err);
  }
}
