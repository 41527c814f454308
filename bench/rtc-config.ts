/**
 * The rtc benchmark's settings. MESHSYNC_BENCH_QUICK=1: a quick check with fewer records and
 * runs. MESHSYNC_BENCH_RTC_TUNING: JSON of per-stack tuning overrides for experiments, e.g.
 * `{"werift":{"highWaterBytes":2097152},"wrtc":{"messageBytes":65536}}`.
 */
import type { DataChannelTuning } from '../peer/rtc/rtc-port.js';
import type { RtcStack } from './rtc-pair.js';
import type { RunCounts } from './table.js';
import type { SessionKind } from './rtc-sources.js';

export const QUICK = process.env.MESHSYNC_BENCH_QUICK === '1';
/** Records B pulls from A in each sync run. */
export const RECORDS = QUICK ? 20_000 : 100_000;
/** Runs of each pair's syncs; a plain and a secure sync over wrtc -> wrtc warm up before all. */
export const SYNC_RUNS = QUICK ? 1 : 3;
export const SETUP_COUNTS: RunCounts = QUICK ? { warmup: 1, runs: 2 } : { warmup: 1, runs: 5 };
/** Records the offerer pushes in the first sync after setup. */
export const SETUP_RECORDS = 100;
/** Frames of the transport baseline: about one sync page. */
export const TRANSPORT_FRAME_BYTES = 1024 * 1024;
/** Sync/raw throughput ratio to reach: plain over wrtc, with compression when werift is in. */
export const TARGET = { wrtc: 0.7, werift: 1.0 };

function tuningOverrides(): Partial<Record<RtcStack, Partial<DataChannelTuning>>> {
  const text = process.env.MESHSYNC_BENCH_RTC_TUNING;
  if (!text) return {};
  return JSON.parse(text) as Partial<Record<RtcStack, Partial<DataChannelTuning>>>;
}

export const TUNING = tuningOverrides();

export function tuningOf(stack: RtcStack): Partial<DataChannelTuning> {
  return TUNING[stack] ?? {};
}

/** One way to sync in the throughput runs. */
export interface Variant {
  label: string;
  session: SessionKind;
  /** Tuning of A's transport (the sender of the pages) over its stack's. */
  sender: Partial<DataChannelTuning>;
  /** Sync/raw ratio to reach, or null for a row shown for comparison. */
  target: number | null;
}

/**
 * Per pair: the plain session with default tuning (the one with a target); where werift is in
 * the pair, compression off and always on. Over wrtc -> wrtc also the mesh's secure session as
 * `RtcConnector` runs it: bound to the DTLS fingerprints, it does not seal frames again, so it
 * moves the same bytes as the plain one (measured once, where the sync's own cost shows most,
 * to keep the benchmark short).
 */
export function variantsOf(offerer: RtcStack, answerer: RtcStack, compress: string): Variant[] {
  const werift = offerer === 'werift' || answerer === 'werift';
  const variants: Variant[] = [
    {
      label: `plain, compress ${compress} (default)`,
      session: 'plain',
      sender: {},
      target: werift ? TARGET.werift : TARGET.wrtc,
    },
  ];
  for (const other of ['never', 'always'] as const) {
    if (werift && other !== compress && (other === 'always' || offerer === 'werift')) {
      variants.push({
        label: `plain, compress ${other}`,
        session: 'plain',
        sender: { compress: other },
        target: null,
      });
    }
  }
  if (!werift) {
    variants.push({
      label: `secure, compress ${compress}`,
      session: 'secure',
      sender: {},
      target: null,
    });
  }
  return variants;
}

/** Mesh members the secure runs use up: one per secure run, warm-up included. */
export function secureRunsNeeded(pairs: ReadonlyArray<readonly [RtcStack, RtcStack]>): number {
  const secure = pairs.filter(([a, b]) =>
    variantsOf(a, b, 'never').some((v) => v.session === 'secure'),
  );
  return secure.length * SYNC_RUNS + 1;
}
