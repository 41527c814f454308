/**
 * rtc: WebRTC setup time and sync throughput for every pair of Node stacks (offerer ->
 * answerer), next to the raw throughput of the same pair's data channel measured in the same
 * runs. Only inside a loopback-only namespace: `../shared/tools/isolated npm run bench -- rtc`
 * (werift is given 127.0.0.1; the signaling server listens on 127.0.0.1, port 0). Both ends of
 * every connection run in this one process, on one thread (werift) or with libwebrtc's threads;
 * last, wrtc -> wrtc again with the receiver in a child process (rtc-two-process.ts).
 */
import { makeTasks, meanJsonLength } from './records.js';
import {
  QUICK,
  RECORDS,
  SETUP_COUNTS,
  SETUP_RECORDS,
  SYNC_RUNS,
  TRANSPORT_FRAME_BYTES,
  TUNING,
  secureRunsNeeded,
  tuningOf,
  variantsOf,
  type Variant,
} from './rtc-config.js';
import { benchRtc, closeAllConnections, RTC_PAIRS, type RtcStack } from './rtc-pair.js';
import { jsonFloor, type JsonFloor } from './json-floor.js';
import { rawChannel, rawTransport } from './rtc-raw.js';
import { logPair, printResults, type PairResult, type PairRun } from './rtc-report.js';
import { setupOnce, setupServer } from './rtc-setup.js';
import { plainSource, secureSource, type SessionKind, type Source } from './rtc-sources.js';
import { syncOver, syncOverMemory } from './rtc-throughput.js';
import { rtcTwoProcess } from './rtc-two-process.js';
import { collectGarbage, formatInt, formatMs, median, sampleRuns, timeAsync } from './table.js';

type Sources = Record<SessionKind, Source>;

async function pairRuns(
  sources: Sources,
  offerer: RtcStack,
  answerer: RtcStack,
  variants: readonly Variant[],
): Promise<PairRun[]> {
  const portA = benchRtc(offerer, tuningOf(offerer));
  const portB = benchRtc(answerer, tuningOf(answerer));
  return sampleRuns({ warmup: 0, runs: SYNC_RUNS }, async (run) => {
    const syncs = [];
    for (const variant of variants) {
      collectGarbage();
      syncs.push(await syncOver(sources[variant.session], RECORDS, portA, portB, variant.sender));
    }
    // The same bytes as the default sync's frames.
    const bytes = syncs[0]!.sender.frameBytesSent;
    collectGarbage();
    const raw = await rawChannel(portA, portB, bytes);
    collectGarbage();
    const transport =
      run === 0 ? await rawTransport(portA, portB, bytes, TRANSPORT_FRAME_BYTES) : null;
    return { syncs, raw, transport };
  });
}

async function measurePair(
  url: string,
  sources: Sources,
  offerer: RtcStack,
  answerer: RtcStack,
): Promise<PairResult> {
  const setup = await sampleRuns(SETUP_COUNTS, () =>
    setupOnce(url, offerer, answerer, SETUP_RECORDS),
  );
  const compress = benchRtc(offerer, tuningOf(offerer)).tuning.compress;
  const variants = variantsOf(offerer, answerer, compress);
  const runs = await pairRuns(sources, offerer, answerer, variants);
  return { pair: `${offerer} -> ${answerer}`, setup, variants, runs };
}

/** MB/s of frames of the plain sync over the in-memory pair: the sync's own cost, no channel. */
async function memoryMbps(plain: Source): Promise<number> {
  const samples = await sampleRuns({ warmup: 0, runs: SYNC_RUNS }, () => {
    collectGarbage();
    return syncOverMemory(plain, RECORDS);
  });
  const mbps = samples.map((s) => s.bytes / 1e6 / (s.ms / 1000));
  console.log(
    `rtc: the plain sync over the in-memory pair (no channel): s [${samples.map((s) => (s.ms / 1000).toFixed(2)).join(', ')}], ` +
      `MB/s of frames [${mbps.map((n) => n.toFixed(1)).join(', ')}]`,
  );
  return median(mbps);
}

/** The JSON floor of A's pages (see json-floor.ts), logged. */
async function measureFloor(plain: Source): Promise<JsonFloor> {
  collectGarbage();
  const floor = await jsonFloor(plain.sender.replica.store);
  const mbps = (ms: number): string => (floor.bytes / 1e6 / (ms / 1000)).toFixed(0);
  console.log(
    `rtc: JSON floor of the same pages (${(floor.bytes / 1e6).toFixed(1)} MB): stringify + encode ` +
      `${formatMs(floor.sendMs)} ms (${mbps(floor.sendMs)} MB/s), decode + parse ` +
      `${formatMs(floor.receiveMs)} ms (${mbps(floor.receiveMs)} MB/s)`,
  );
  return floor;
}

/** One plain and one secure sync over wrtc before anything is measured (JIT, caches). */
async function warmUp(sources: Sources): Promise<void> {
  const wrtc = benchRtc('wrtc', tuningOf('wrtc'));
  const ms = await timeAsync(async () => {
    await syncOver(sources.plain, RECORDS, wrtc, wrtc);
    await syncOver(sources.secure, RECORDS, wrtc, wrtc);
  });
  console.log(`rtc: warm-up syncs (plain, secure over wrtc -> wrtc) took ${formatMs(ms)} ms`);
}

export async function rtc(): Promise<void> {
  if (process.env.MESHSYNC_ISOLATED !== '1') {
    console.log(
      'rtc: skipped, it starts WebRTC: run it in a loopback-only namespace (../shared/tools/isolated npm run bench -- rtc)',
    );
    return;
  }
  if (Object.keys(TUNING).length > 0)
    console.log(`rtc: tuning overrides ${JSON.stringify(TUNING)}`);
  const server = await setupServer();
  const stops: Array<() => Promise<void>> = [];
  try {
    const tasks = makeTasks(RECORDS);
    let sources!: Sources;
    const seedMs = await timeAsync(async () => {
      const plain = await plainSource(tasks);
      stops.push(() => plain.stop());
      const secure = await secureSource(tasks, secureRunsNeeded(RTC_PAIRS));
      stops.push(() => secure.stop());
      sources = { plain, secure };
    });
    console.log(
      `rtc: ${formatInt(RECORDS)} records (mean JSON ${meanJsonLength(tasks).toFixed(0)} bytes) ` +
        `put in a plain peer and a mesh device in ${formatMs(seedMs)} ms${QUICK ? ' (quick mode)' : ''}`,
    );
    await warmUp(sources);
    const memory = await memoryMbps(sources.plain);
    const floor = await measureFloor(sources.plain);
    const results: PairResult[] = [];
    for (const [offerer, answerer] of RTC_PAIRS) {
      const result = await measurePair(server.url, sources, offerer, answerer);
      logPair(result);
      results.push(result);
    }
    printResults(results, memory, floor);
    for (const stack of ['wrtc', 'werift'] as const) await rtcTwoProcess(stack, tasks);
  } finally {
    closeAllConnections();
    for (const stop of stops) await stop();
    await server.close();
  }
}
