import { MeshsyncError } from '../../shared/errors.js';
import { LIMITS } from '../../shared/limits.js';
import { originTag } from '../../shared/record.js';
import { encodeChangesFrame } from '../../shared/protocol/codec.js';
import type { StorePort } from '../store/store-port.js';
import type { Remote } from './handshake.js';
import { buildPage } from './page-builder.js';

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
 * (`push: false`) or a page we push (`push: true`).
 */
export async function pageFrame(
  store: StorePort,
  remote: Remote,
  request: { req: number; push: boolean; after: number; rows: number; bytes: number },
): Promise<PageFrame> {
  const page = await buildPage(
    store,
    originTag(remote.device, remote.epoch),
    request.after,
    remote.want,
    {
      rows: Math.max(1, Math.min(request.rows, LIMITS.maxPageRows)),
      bytes: pageBytesFor(remote, request.bytes),
    },
  );
  const frame = encodeChangesFrame(
    {
      req: request.req,
      push: request.push,
      from: request.after,
      to: page.to,
      head: page.head,
      more: page.more,
    },
    page.rowJsons,
  );
  if (frame.length > remote.maxFrame) {
    // Only a single row can get here (pages are sized to fit): the remote can never take it.
    throw new MeshsyncError(
      'FRAME_TOO_LARGE',
      `a record of ${frame.length} bytes exceeds the peer's frame limit of ${remote.maxFrame}`,
      { details: { bytes: frame.length, limit: remote.maxFrame, seq: page.to } },
    );
  }
  return { frame, rows: page.rowJsons.length, to: page.to, head: page.head, more: page.more };
}
