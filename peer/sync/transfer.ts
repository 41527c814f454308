import { MeshsyncError } from '../../shared/errors.js';
import { encodeMessage } from '../../shared/protocol/codec.js';
import type { AckMessage, ChangesMessage } from '../../shared/protocol/messages.js';
import type { Replica } from '../replica.js';
import { aborted } from './coalesce.js';
import type { Remote } from './handshake.js';
import type { Reply } from './pending-requests.js';
import { pageFrame } from './serve.js';
import type { ResolvedSyncOptions, SyncProgress, SyncResult } from './session-types.js';

/** What a pull or push loop needs from its session. */
export interface TransferContext {
  /** Aborts when every caller waiting on this transfer has aborted. */
  signal: AbortSignal;
  replica: Replica;
  remote: Remote;
  want: ReadonlySet<string> | null;
  options: ResolvedSyncOptions;
  /** Shared with the session: our cursor into the remote (in) and its cursor into us (out). */
  cursors: { in: number; out: number };
  stats: { rowsIn: number; rowsOut: number; lastPullAt: number | null; lastPushAt: number | null };
  newRequestId(): number;
  request(req: number, expect: 'changes' | 'ack', frame: Uint8Array): Promise<Reply>;
  send(frame: Uint8Array): void;
  /** Sends and waits for the transport to take more (backpressure). */
  sendAsync(frame: Uint8Array): Promise<void>;
  /** Answers request `req` with an error and records it in the session's status. */
  refuse(req: number, error: MeshsyncError): void;
  progress(progress: SyncProgress): void;
}

/**
 * Pulls pages after our cursor until the remote says no more remain. Each page and the cursor
 * are applied in one store transaction, so a cut at any point resumes where it stopped.
 */
export async function pullLoop(ctx: TransferContext): Promise<SyncResult> {
  const { replica, remote, cursors, options } = ctx;
  const result: SyncResult = { direction: 'pull', pages: 0, rows: 0, bytes: 0, cursor: cursors.in };
  for (;;) {
    if (ctx.signal.aborted) throw aborted();
    const after = cursors.in;
    const req = ctx.newRequestId();
    const ask = encodeMessage({
      type: 'pull',
      req,
      after,
      rows: options.pageRows,
      bytes: options.pageBytes,
    });
    const { message, bytes } = await ctx.request(req, 'changes', ask);
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
    const { cursor } = await replica.applyPage(remote.device, remote.epoch, ctx.want, page);
    cursors.in = Math.max(cursors.in, cursor);
    ctx.stats.rowsIn += page.rows.length;
    result.pages++;
    result.rows += page.rows.length;
    result.bytes += bytes;
    result.cursor = cursors.in;
    ctx.progress({ ...result, head: page.head, pending: page.head - cursors.in });
    if (!page.more) break;
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
