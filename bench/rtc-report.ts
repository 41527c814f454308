/** The rtc benchmark's tables and per-run log lines. */
import { availableParallelism } from 'node:os';
import { floorBound, type JsonFloor } from './json-floor.js';
import { RECORDS, SETUP_COUNTS, SETUP_RECORDS, SYNC_RUNS, type Variant } from './rtc-config.js';
import type { RawSample } from './rtc-raw.js';
import type { SetupSample } from './rtc-setup.js';
import type { SyncSample } from './rtc-throughput.js';
import { formatInt, formatMs, formatRatio, median, printTable } from './table.js';

/** One run of a pair: a sync per variant, the raw channel, and (first run only) the transport. */
export interface PairRun {
  syncs: SyncSample[];
  raw: RawSample;
  transport: RawSample | null;
}

export interface PairResult {
  pair: string;
  setup: SetupSample[];
  variants: readonly Variant[];
  runs: readonly PairRun[];
}

const MB = 1e6;
const mbps = (bytes: number, ms: number): number => bytes / MB / (ms / 1000);
const fmt = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '-');
const list = (values: readonly number[], f: (n: number) => string): string =>
  `[${values.map(f).join(', ')}]`;

function setupMedian(samples: readonly SetupSample[], pick: (s: SetupSample) => number): string {
  return formatMs(median(samples.map(pick)));
}

/** Log lines of one pair's runs, printed as it finishes. */
export function logPair(result: PairResult): void {
  const { pair, setup, variants, runs } = result;
  console.log(
    `rtc ${pair}: setup channel open ms ${list(
      setup.map((s) => s.openMs),
      formatMs,
    )}, first sync ms ${list(
      setup.map((s) => s.syncMs),
      formatMs,
    )}; raw MB/s ${list(
      runs.map((r) => mbps(r.raw.bytes, r.raw.ms)),
      fmt,
    )} (udp drops ${list(
      runs.map((r) => r.raw.udpDrops),
      String,
    )})`,
  );
  variants.forEach((variant, index) => {
    const syncs = runs.map((r) => r.syncs[index]!);
    const first = syncs[0]!;
    console.log(
      `  ${variant.label}: sync s ${list(
        syncs.map((s) => s.ms / 1000),
        (n) => n.toFixed(2),
      )}, cpu/wall ${list(
        syncs.map((s) => s.cpuMs / s.ms),
        formatRatio,
      )}, udp drops ${list(
        syncs.map((s) => s.udpDrops),
        String,
      )}; ${first.pages} pages, ${first.sender.framesSent} frames, ${fmt(first.sender.frameBytesSent / MB)} MB frames, ${fmt(first.sender.wireBytesSent / MB)} MB wire`,
    );
  });
}

function pairRows(result: PairResult, memoryMbps: number, floor: JsonFloor): string[][] {
  const { pair, setup, variants, runs } = result;
  const rawMbps = median(runs.map((r) => mbps(r.raw.bytes, r.raw.ms)));
  const bound = floorBound(
    median(runs.map((r) => r.raw.ms)),
    floor,
    median(runs.map((r) => r.raw.cpuMs)),
    { sharedThread: true, cores: availableParallelism() },
  );
  const transport = runs.find((r) => r.transport !== null)?.transport;
  return variants.map((variant, index) => {
    const syncs = runs.map((r) => r.syncs[index]!);
    const ms = median(syncs.map((s) => s.ms));
    const frameMbps = median(syncs.map((s) => mbps(s.sender.frameBytesSent, s.ms)));
    const wireMbps = median(syncs.map((s) => mbps(s.sender.wireBytesSent, s.ms)));
    const deflated = median(syncs.map((s) => s.sender.deflatedFramesSent / s.sender.framesSent));
    const ratio = frameMbps / rawMbps;
    const first = index === 0;
    return [
      first ? pair : '',
      variant.label,
      first ? setupMedian(setup, (s) => s.openMs) : '',
      first ? setupMedian(setup, (s) => s.syncMs) : '',
      (ms / 1000).toFixed(2),
      formatInt((RECORDS / ms) * 1000),
      fmt(frameMbps),
      fmt(wireMbps),
      `${Math.round(deflated * 100)}%`,
      first ? fmt(rawMbps) : '',
      first && transport ? fmt(mbps(transport.bytes, transport.ms)) : '',
      formatRatio(ratio),
      first ? formatRatio(1 / (1 + rawMbps / memoryMbps)) : '',
      first ? formatRatio(bound) : '',
      variant.target === null ? '-' : `>= ${variant.target.toFixed(2)}`,
      variant.target === null ? '' : ratio >= variant.target ? 'yes' : 'NO',
    ];
  });
}

/**
 * Both ends run on this process's one JavaScript thread, so a pull costs about the sync's own
 * time (memory pair) plus the channel's (raw): the sync/raw ratio that serial cost allows.
 */
export function printResults(
  results: readonly PairResult[],
  memoryMbps: number,
  floor: JsonFloor,
): void {
  printTable(
    `rtc setup through a signaling server on loopback: ms from RtcConnector.connect() on the offerer (median of ${SETUP_COUNTS.runs} runs after ${SETUP_COUNTS.warmup} warm-up)`,
    [
      'offerer -> answerer',
      'offer()',
      'offer arrives',
      'answer arrives',
      'connected',
      'channel open',
      'authenticated',
      `first sync (${SETUP_RECORDS} records)`,
    ],
    results.map(({ pair, setup }) => [
      pair,
      ...[
        (s: SetupSample) => s.offerMs,
        (s: SetupSample) => s.answerMs,
        (s: SetupSample) => s.acceptMs,
        (s: SetupSample) => s.connectedMs,
        (s: SetupSample) => s.openMs,
        (s: SetupSample) => s.sessionMs,
        (s: SetupSample) => s.syncMs,
      ].map((pick) => setupMedian(setup, pick)),
    ]),
  );
  printTable(
    `rtc sync: empty B pulls ${formatInt(RECORDS)} records from A over a data-channel transport pair, medians of ${SYNC_RUNS} runs`,
    [
      'offerer -> answerer',
      'session, sender tuning',
      'open ms',
      'first sync ms',
      'sync s',
      'records/s',
      'frame MB/s',
      'wire MB/s',
      'deflated',
      'raw MB/s',
      'transport MB/s',
      'sync/raw',
      'serial bound',
      'JSON bound',
      'target',
      'met',
    ],
    results.flatMap((result) => pairRows(result, memoryMbps, floor)),
  );
  for (const line of [
    "MB = 1e6 bytes. frame MB/s: A's frame bytes (before compression) / pull time; wire: after it.",
    'raw MB/s: the same bytes through the raw data channel of the same pair (max-size messages,',
    '  the same backpressure), on a fresh connection in each run; transport MB/s: through the',
    '  data-channel transport, compression off, in 1 MiB frames (first run only).',
    'sync/raw: frame MB/s / raw MB/s. serial bound: 1 / (1 + raw MB/s / memory MB/s), with memory',
    `  MB/s = ${fmt(memoryMbps)}, the same sync over the in-memory pair: the ratio of an uncompressed`,
    "  sync when its own time and the channel's add up (both ends share one JavaScript thread here).",
    'JSON bound: the best sync/raw any sync of these pages in JSON could reach here: at least the',
    `  JSON floor (stringify, encode, decode, parse: ${formatMs(floor.sendMs + floor.receiveMs)} ms on this thread) and at least`,
    `  that plus the raw channel's CPU spread over the ${availableParallelism()} cores (see bench/json-floor.ts).`,
  ]) {
    console.log(line);
  }
}
