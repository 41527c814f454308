/** The signaling benchmark's settings (MESHSYNC_BENCH_QUICK=1: a quick check). */
import { DEFAULT_SIGNALING_LIMITS } from '../signaling/limits.js';
import type { LoadOptions } from './signaling-load.js';

export const QUICK = process.env.MESHSYNC_BENCH_QUICK === '1';
export const COUNTS = QUICK ? [200, 500, 1000] : [1000, 5000, 10_000];
export const RUNS = QUICK ? 2 : 5;
export const RATE = 2000;
export const SIGNAL: LoadOptions = {
  kind: 'signal',
  rate: RATE,
  windowMs: QUICK ? 1000 : 2500,
  size: 512,
  drainMs: 5000,
};
export const RELAY: LoadOptions = {
  kind: 'relay',
  rate: RATE,
  windowMs: QUICK ? 500 : 1500,
  size: 1024,
  drainMs: 5000,
};
export const WARMUP: LoadOptions[] = [
  { ...SIGNAL, windowMs: 1000 },
  { ...RELAY, windowMs: 500 },
];
/** Joins in flight at once while ramping up. */
export const CONCURRENCY = 32;
export const SETTLE_MS = 1000;
/**
 * At the largest count, one window of signals a little longer than the server's heartbeat
 * interval, so that it spans one heartbeat round (a ping to every client); not in quick mode.
 */
export const LONG: LoadOptions | null = QUICK
  ? null
  : { ...SIGNAL, windowMs: DEFAULT_SIGNALING_LIMITS.heartbeatMs + 2000 };
export const TARGET = { clients: 10_000, p99Ms: 20, rssBytes: 400e6 };
