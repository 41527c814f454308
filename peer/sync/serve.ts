import { MeshsyncError, toMeshsyncError } from '../../shared/errors.js';
import { LIMITS } from '../../shared/limits.js';
import { encodeMessage } from '../../shared/protocol/codec.js';
import type { ChangesMessage, PullMessage } from '../../shared/protocol/messages.js';
import { filterKey } from '../replica.js';
import type { TransferContext } from './transfer.js';
import { originTag } from '../../shared/record.js';
import { encodeChangesFrame } from '../../shared/protocol/codec.js';
import type { StorePort } from '../store/store-port.js';
import type { Remote } from './handshake.js';
import type { PageAhead, PageAsk } from './page-ahead.js';
import { buildPage, type BuiltPage } from './page-builder.js';

/** Room left in a frame for the header and the page's own fields. */
const FRAME_SLACK = 4096;

/** The largest page (in UTF-16 units of row JSON) whose frame fits the remote's limit. */
export function pageBytesFor(remote: Remote, wanted: number): number {
  // A UTF-16 unit is at most 3 bytes of UTF-8.
  return Math.max(1, Math.min(wanted, Math.floor((remote.maxFrame - FRAME_SLACK) / 3)));
}

export interface PageFrame {
  frame: Uint8Array;
  rows: number;
  to: number;
  head: number;
  more: boolean;
}

/**
 * Builds the `changes` frame of our changes after `after` for `remote`: the answer to its pull
 * (`push: false`) or a page we push (`push: true`). With `ahead`, a page built in advance for
 * this very request is used if the store has not changed since.
 */
export async function pageFrame(
  store: StorePort,
  remote: Remote,
  request: { req: number; push: boolean; after: number; rows: number; bytes: number },
  ahead?: PageAhead,
): Promise<PageFrame> {
  const prepared = ahead && (await ahead.take(request, await store.lastSeq()));
  const page = prepared || (await buildFor(store, remote, request));
  const frame = encodeChangesFrame(
    {
      req: request.req,
      push: request.push,
      from: request.after,
      to: page.to,
      head: page.head,
      more: page.more,
    },
    page.rowsJson,
  );
  if (frame.length > remote.maxFrame) {
    // Only a single row can get here (pages are sized to fit): the remote can never take it.
    throw new MeshsyncError(
      'FRAME_TOO_LARGE',
      `a record of ${frame.length} bytes exceeds the peer's frame limit of ${remote.maxFrame}`,
      { details: { bytes: frame.length, limit: remote.maxFrame, seq: page.to } },
    );
  }
  return { frame, rows: page.count, to: page.to, head: page.head, more: page.more };
}

function buildFor(store: StorePort, remote: Remote, ask: PageAsk): Promise<BuiltPage> {
  return buildPage(store, originTag(remote.device, remote.epoch), ask.after, remote.want, {
    rows: Math.max(1, Math.min(ask.rows, LIMITS.maxPageRows)),
    bytes: pageBytesFor(remote, ask.bytes),
  });
}

/**
 * Answers the remote's pull with a page, or at once with an error if it cannot. Then builds
 * the page it will ask for next, if any, while it takes in this one.
 */
export async function answerPull(ctx: TransferContext, message: PullMessage): Promise<void> {
  // The remote has applied our changes up to `after`: pushes need not resend them.
  ctx.cursors.out = Math.max(ctx.cursors.out, message.after);
  const { store } = ctx.replica;
  try {
    const page = await pageFrame(store, ctx.remote, { ...message, push: false }, ctx.ahead);
    ctx.stats.rowsOut += page.rows;
    await ctx.sendAsync(page.frame);
    if (page.more) {
      const next = { after: page.to, rows: message.rows, bytes: message.bytes };
      ctx.ahead.prepare(
        next,
        () => store.lastSeq(),
        () => buildFor(store, ctx.remote, next),
      );
    }
  } catch (err) {
    // Whatever went wrong, the puller hears it now rather than after its timeout.
    ctx.refuse(message.req, toMeshsyncError(err, 'STORE_FAILED'));
  }
}

/**
 * Applies a page the remote pushed and acknowledges it with our cursor. A gap is answered with
 * the real cursor (the sender resends from there); other refusals with an error.
 */
export async function acceptPush(
  ctx: TransferContext,
  message: ChangesMessage,
  bytes: number,
  wantList: readonly string[] | null,
): Promise<void> {
  const { replica, remote } = ctx;
  let cursor: number;
  try {
    ({ cursor } = await replica.applyPage(remote.device, remote.epoch, ctx.want, message));
    ctx.stats.rowsIn += message.rows.length;
  } catch (err) {
    const error = toMeshsyncError(err, 'STORE_FAILED');
    if (error.code !== 'CURSOR_GAP') return ctx.refuse(message.req, error);
    cursor = await replica.cursorFor(remote.device, remote.epoch, filterKey(wantList));
  }
  ctx.cursors.in = Math.max(ctx.cursors.in, cursor);
  ctx.send(encodeMessage({ type: 'ack', req: message.req, cursor }));
  ctx.progress({
    direction: 'pull',
    pages: 1,
    rows: message.rows.length,
    bytes,
    cursor,
    head: message.head,
    pending: message.head - cursor,
  });
}
