import { MeshsyncError } from '../../shared/errors.js';
import { encodeMessage, type PageHead } from '../../shared/protocol/codec.js';
import type { AckMessage, ChangesMessage } from '../../shared/protocol/messages.js';
import type { Replica } from '../replica.js';
import { aborted } from './coalesce.js';
import type { Remote } from './handshake.js';
import type { PageAhead } from './page-ahead.js';
import type { Reply } from './pending-requests.js';
import { pageFrame } from './serve.js';
import type { ResolvedSyncOptions, SyncProgress, SyncResult } from './session-types.js';

/** What a pull or push loop needs from its session. */
export interface TransferContext {
  /** Aborts when every caller waiting on this transfer has aborted. */
  signal: AbortSignal;
  replica: Replica;
  remote: Remote;
  /** The page the remote is likely to pull next, built in advance (one per session). */
  ahead: PageAhead;
  want: ReadonlySet<string> | null;
  options: ResolvedSyncOptions;
  /** Shared with the session: our cursor into the remote (in) and its cursor into us (out). */
  cursors: { in: number; out: number };
  stats: { rowsIn: number; rowsOut: number; lastPullAt: number | null; lastPushAt: number | null };
  newRequestId(): number;
  /** Sends a request and waits for its reply; `onHead` hears the head of a page as it arrives. */
  request(
    req: number,
    expect: 'changes' | 'ack',
    frame: Uint8Array,
    onHead?: (head: PageHead) => void,
  ): Promise<Reply>;
  send(frame: Uint8Array): void;
  /** Sends and waits for the transport to take more (backpressure). */
  sendAsync(frame: Uint8Array): Promise<void>;
  /** Answers request `req` with an error and records it in the session's status. */
  refuse(req: number, error: MeshsyncError): void;
  progress(progress: SyncProgress): void;
}

/** One page asked for: where it starts, its reply, and where it ends once that is known. */
interface Ask {
  after: number;
  reply: Promise<Reply>;
  end?: { to: number; more: boolean };
}

/**
 * Pulls pages after our cursor until the remote says no more remain. Each page and the cursor
 * are applied in one store transaction, so a cut at any point resumes where it stopped.
 *
 * Pages are asked for in halves of `pageRows` and `pageBytes`, the next as soon as a page
 * arrives (its head is read before it is decoded), so the remote builds and sends it while we
 * decode and apply this one. Two halves at most are unapplied at any time (each ask starts where
 * the page before it ended): never more than `pageRows` rows are in flight, as without the
 * overlap, and a crash loses at most that many.
 */
export async function pullLoop(ctx: TransferContext): Promise<SyncResult> {
  const { replica, remote, cursors, options } = ctx;
  const result: SyncResult = { direction: 'pull', pages: 0, rows: 0, bytes: 0, cursor: cursors.in };
  const depth = options.pageRows >= 2 ? 2 : 1;
  const rows = Math.floor(options.pageRows / depth);
  const bytes = Math.max(1, Math.floor(options.pageBytes / depth));
  const window: Ask[] = [];
  const ask = (after: number): void => {
    const req = ctx.newRequestId();
    const frame = encodeMessage({ type: 'pull', req, after, rows, bytes });
    const reply = ctx.request(req, 'changes', frame, (head) => {
      if (head.from !== after || head.to <= after || !window.includes(entry)) return;
      entry.end = { to: head.to, more: head.more };
      askAhead();
    });
    // A page asked for ahead is dropped if the loop ends first: its failure is nobody's.
    reply.catch(() => undefined);
    const entry: Ask = { after, reply };
    window.push(entry);
  };
  /** Asks for the page after the last one asked for, once where that one ends is known. */
  const askAhead = (): void => {
    const end = window[window.length - 1]?.end;
    if (window.length < depth && end?.more) ask(end.to);
  };
  ask(cursors.in);
  for (;;) {
    if (ctx.signal.aborted) throw aborted();
    const current = window[0]!;
    const after = current.after;
    const { message, bytes } = await current.reply;
    const page = message as ChangesMessage;
    if (page.from !== after) {
      throw new MeshsyncError('BAD_MESSAGE', `pull answered from ${page.from}, asked ${after}`);
    }
    if (page.more && page.to <= after) {
      throw new MeshsyncError(
        'BAD_MESSAGE',
        `peer answered more: true without progress past ${after}`,
      );
    }
    // The page ahead must start where this one ends; ask for it now if no hint asked already.
    const ahead = window[1];
    if (ahead && (!page.more || ahead.after !== page.to)) window.length = 1;
    current.end = { to: page.to, more: page.more };
    askAhead();
    const { cursor } = await replica.applyPage(remote.device, remote.epoch, ctx.want, page);
    window.shift();
    cursors.in = Math.max(cursors.in, cursor);
    ctx.stats.rowsIn += page.rows.length;
    result.pages++;
    result.rows += page.rows.length;
    result.bytes += bytes;
    result.cursor = cursors.in;
    ctx.progress({ ...result, head: page.head, pending: page.head - cursors.in });
    if (!page.more) break;
    // Our cursor moved elsewhere (a page the remote pushed meanwhile): ask from there instead.
    if (window[0]?.after !== cursors.in) {
      window.length = 0;
      ask(cursors.in);
    } else {
      askAhead();
    }
  }
  // A later welcome tells the remote how far we got, so its pushes can start there.
  ctx.send(encodeMessage({ type: 'welcome', cursor: cursors.in }));
  ctx.stats.lastPullAt = Date.now();
  return result;
}

/**
 * Sends pages of our changes after the remote's cursor, one at a time, each acknowledged with
 * the remote's cursor after applying it (which may send us back to resend after a gap).
 */
export async function pushLoop(ctx: TransferContext): Promise<SyncResult> {
  const { replica, remote, cursors, options } = ctx;
  const result: SyncResult = {
    direction: 'push',
    pages: 0,
    rows: 0,
    bytes: 0,
    cursor: cursors.out,
  };
  let stalls = 0;
  for (;;) {
    if (ctx.signal.aborted) throw aborted();
    const after = cursors.out;
    const req = ctx.newRequestId();
    const request = { req, push: true, after, rows: options.pageRows, bytes: options.pageBytes };
    const page = await pageFrame(replica.store, remote, request);
    if (page.to === after && !page.more) break;
    const { message } = await ctx.request(req, 'ack', page.frame);
    const acked = (message as AckMessage).cursor;
    stalls = acked <= after ? stalls + 1 : 0;
    if (stalls > 2) throw new MeshsyncError('CURSOR_GAP', `peer does not advance past ${acked}`);
    cursors.out = acked;
    ctx.stats.rowsOut += page.rows;
    result.pages++;
    result.rows += page.rows;
    result.bytes += page.frame.length;
    result.cursor = acked;
    ctx.progress({ ...result, head: page.head, pending: Math.max(0, page.head - acked) });
    if (!page.more && acked >= page.to) break;
  }
  ctx.stats.lastPushAt = Date.now();
  return result;
}
