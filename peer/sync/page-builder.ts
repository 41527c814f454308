import type { RecordState, OriginTag, StoredRecord } from '../../shared/record.js';
import { encodeRow, wireFields } from '../../shared/protocol/wire-row.js';
import type { EncodedRecord, StorePort } from '../store/store-port.js';

export interface PageLimits {
  /** Most rows in the page. */
  rows: number;
  /** Target size of the page's rows in UTF-16 units of JSON; one larger row may go alone. */
  bytes: number;
}

export interface BuiltPage {
  /** The page's rows as one JSON array, in seq order. */
  rowsJson: string;
  /** How many rows it holds. */
  count: number;
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
 *
 * Rows are serialised in one `JSON.stringify` call per page when the page fits its byte target
 * (the common case, much faster than one call per row); a page that would not fit is rebuilt
 * row by row, measuring each. Stores that keep rows pre-encoded are spliced directly.
 */
export async function buildPage(
  store: StorePort,
  receiver: OriginTag,
  after: number,
  want: ReadonlySet<string> | null,
  limits: PageLimits,
): Promise<BuiltPage> {
  const head = await store.lastSeq();
  if (!store.changesSinceEncoded) {
    const whole = await wholePage(store, receiver, after, want, limits, head);
    if (whole) return whole;
  }
  return measuredPage(store, receiver, after, want, limits, head);
}

const wanted = (
  o: OriginTag | null,
  c: string,
  receiver: OriginTag,
  want: ReadonlySet<string> | null,
): boolean => o !== receiver && (want === null || want.has(c));

/** Skipped rows cost reads too: the scan per page is capped so one page stays bounded in work. */
const scanBudget = (limits: PageLimits): number => Math.max(limits.rows * 8, 1024);

function toWire(record: RecordState): object {
  return { c: record.c, i: record.i, a: record.a, d: record.d, f: wireFields(record) };
}

/** Up to `limits.rows` rows stringified at once; undefined if they exceed the byte target. */
async function wholePage(
  store: StorePort,
  receiver: OriginTag,
  after: number,
  want: ReadonlySet<string> | null,
  limits: PageLimits,
  head: number,
): Promise<BuiltPage | undefined> {
  const rows: object[] = [];
  let to = after;
  let budget = scanBudget(limits);
  while (budget > 0 && rows.length < limits.rows) {
    const batch: StoredRecord[] = await store.changesSince(
      to,
      Math.min(budget, Math.max(64, limits.rows - rows.length)),
    );
    if (batch.length === 0) break;
    for (const record of batch) {
      if (rows.length === limits.rows) break;
      if (wanted(record.o, record.c, receiver, want)) rows.push(toWire(record));
      to = record.seq;
      budget--;
    }
  }
  const rowsJson = JSON.stringify(rows);
  if (rows.length > 1 && rowsJson.length - 2 > limits.bytes) return undefined;
  return {
    rowsJson,
    count: rows.length,
    to,
    head: Math.max(head, to),
    more: to < (await store.lastSeq()),
  };
}

/** Row by row, each measured, stopping before the byte target (a single larger row goes alone). */
async function measuredPage(
  store: StorePort,
  receiver: OriginTag,
  after: number,
  want: ReadonlySet<string> | null,
  limits: PageLimits,
  head: number,
): Promise<BuiltPage> {
  const rowJsons: string[] = [];
  let size = 0;
  let to = after;
  let more = false;
  let budget = scanBudget(limits);
  scan: while (budget > 0) {
    const batch = await readEncoded(
      store,
      to,
      Math.min(budget, Math.max(64, limits.rows - rowJsons.length + 1)),
    );
    if (batch.length === 0) break;
    for (const record of batch) {
      if (wanted(record.o, record.c, receiver, want)) {
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
  return {
    rowsJson: `[${rowJsons.join(',')}]`,
    count: rowJsons.length,
    to,
    head: Math.max(head, to),
    more,
  };
}

/** The next records after `after` as wire rows, pre-encoded by the store when it can. */
async function readEncoded(
  store: StorePort,
  after: number,
  limit: number,
): Promise<EncodedRecord[]> {
  if (store.changesSinceEncoded) return store.changesSinceEncoded(after, limit);
  const records = await store.changesSince(after, limit);
  return records.map((r) => ({ seq: r.seq, c: r.c, o: r.o, json: encodeRow(r) }));
}
