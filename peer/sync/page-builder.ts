import type { OriginTag } from '../../shared/record.js';
import { encodeRow } from '../../shared/protocol/wire-row.js';
import type { EncodedRecord } from '../store/store-port.js';
import type { StorePort } from '../store/store-port.js';

export interface PageLimits {
  /** Most rows in the page. */
  rows: number;
  /** Target size of the page's rows in UTF-16 units of JSON; one larger row may go alone. */
  bytes: number;
}

export interface BuiltPage {
  /** Each row already serialised, in seq order. */
  rowJsons: string[];
  /** Bytes (UTF-16 units) of the rows. */
  size: number;
  /** Last seq covered by the page (rows skipped for the receiver count as covered). */
  to: number;
  /** The store's head when the page was built (>= to). */
  head: number;
  more: boolean;
}

/**
 * Builds the next page of our changes after `after` for `receiver`: rows in seq order, leaving
 * out rows that came from the receiver and are unchanged since (no echo) and collections it did
 * not ask for. Reads the store in batches, never the whole store.
 */
export async function buildPage(
  store: StorePort,
  receiver: OriginTag,
  after: number,
  want: ReadonlySet<string> | null,
  limits: PageLimits,
): Promise<BuiltPage> {
  const head = await store.lastSeq();
  const rowJsons: string[] = [];
  let size = 0;
  let to = after;
  let more = false;
  // Skipped rows cost reads too: cap the scan so one page stays bounded in work.
  let budget = Math.max(limits.rows * 8, 1024);
  scan: while (budget > 0) {
    const batch = await readBatch(
      store,
      to,
      Math.min(budget, Math.max(64, limits.rows - rowJsons.length + 1)),
    );
    if (batch.length === 0) break;
    for (const record of batch) {
      if (record.o !== receiver && (want === null || want.has(record.c))) {
        const json = record.json;
        if (
          rowJsons.length > 0 &&
          (rowJsons.length >= limits.rows || size + json.length > limits.bytes)
        ) {
          more = true;
          break scan;
        }
        rowJsons.push(json);
        size += json.length;
      }
      to = record.seq;
      budget--;
    }
    if (budget === 0) more = to < (await store.lastSeq());
  }
  return { rowJsons, size, to, head: Math.max(head, to), more };
}

/** The next records after `after` as wire rows, pre-encoded by the store when it can. */
async function readBatch(store: StorePort, after: number, limit: number): Promise<EncodedRecord[]> {
  if (store.changesSinceEncoded) return store.changesSinceEncoded(after, limit);
  const records = await store.changesSince(after, limit);
  return records.map((r) => ({ seq: r.seq, c: r.c, o: r.o, json: encodeRow(r) }));
}
