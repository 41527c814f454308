/**
 * The JSON floor of the rtc benchmark: what any sync of these pages in this wire format must do
 * at the least, timed alone on one thread. The pages of a full pull (2,000 rows each, as a pull
 * asks for them) are stringified, encoded to UTF-8, decoded and parsed: no validation, no store,
 * no channel. A sync cannot be cheaper than this, so it bounds the sync/raw ratio any engine
 * could reach on this machine against the same raw channel.
 */
import type { StorePort } from '../peer/store/store-port.js';
import { wireFields } from '../shared/protocol/wire-row.js';
import { median } from './table.js';

/** Rows per page, as a pull asks for them with the default `pageRows`. */
const PAGE_ROWS = 2000;

export interface JsonFloor {
  /** Median ms of stringifying and encoding every page (the sender's part). */
  sendMs: number;
  /** Median ms of decoding and parsing them (the receiver's part). */
  receiveMs: number;
  /** UTF-8 bytes of the pages. */
  bytes: number;
}

/** Every record of `store` in pages of wire rows, as the page builder makes them. */
async function pagesOf(store: StorePort): Promise<object[][]> {
  const pages: object[][] = [];
  for (let after = 0; ;) {
    const batch = await store.changesSince(after, PAGE_ROWS);
    if (batch.length === 0) return pages;
    pages.push(batch.map((r) => ({ c: r.c, i: r.i, a: r.a, d: r.d, f: wireFields(r) })));
    after = batch[batch.length - 1]!.seq;
  }
}

/** The JSON floor of pulling all of `store`: medians of `runs` timed passes. */
export async function jsonFloor(store: StorePort, runs = 3): Promise<JsonFloor> {
  const pages = await pagesOf(store);
  if (pages.length === 0) throw new Error('json floor: the store holds no records');
  const encoder = new TextEncoder();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const send: number[] = [];
  const receive: number[] = [];
  let bytes = 0;
  for (let run = 0; run < runs; run++) {
    const start = performance.now();
    const frames = pages.map((page) => encoder.encode(JSON.stringify(page)));
    const encoded = performance.now();
    let rows = 0;
    for (const frame of frames) rows += (JSON.parse(decoder.decode(frame)) as unknown[]).length;
    receive.push(performance.now() - encoded);
    send.push(encoded - start);
    bytes = frames.reduce((sum, frame) => sum + frame.length, 0);
    if (rows === 0) throw new Error('json floor: no rows parsed');
  }
  return { sendMs: median(send), receiveMs: median(receive), bytes };
}

/**
 * The best sync/raw ratio the floor allows on this machine. A sync takes at least as long as
 * the raw channel; as the JSON on its busiest thread (both parts when both ends share one
 * thread, the larger part when each end has its own); and as all the CPU it needs at the least
 * (the JSON plus what the raw channel itself used, `rawCpuMs`, all threads) spread over `cores`.
 */
export function floorBound(
  rawMs: number,
  floor: JsonFloor,
  rawCpuMs: number,
  options: { sharedThread: boolean; cores: number },
): number {
  const json = floor.sendMs + floor.receiveMs;
  const thread = options.sharedThread ? json : Math.max(floor.sendMs, floor.receiveMs);
  return rawMs / Math.max(rawMs, thread, (json + rawCpuMs) / options.cores);
}
