/**
 * incremental: A and B start in sync (A seeded by `put`, then an untimed full sync to B); each
 * run puts 10 changed records on A and times B's pull of just those. The 10k store, measured in
 * the same process, is the baseline of the 1M store.
 */
import type { Peer } from '../peer/peer.js';
import { jsonEqual } from '../shared/json.js';
import { COLLECTION, link, memoryPeer, seedByPut, type Link } from './fixture.js';
import { makeTaskValue, seededRandom, taskId, taskStream, type TaskValue } from './records.js';
import {
  collectGarbage,
  formatInt,
  formatMs,
  formatRatio,
  median,
  memoryLine,
  printTable,
  sampleRuns,
  sleep,
  timeAsync,
  timeSpan,
  GcMonitor,
  type RunCounts,
  type Span,
} from './table.js';

const SIZES: readonly number[] = [10_000, 1_000_000];
const COUNTS: RunCounts = { warmup: 5, runs: 30 };
const CHANGED = 10;
const TARGET_RATIO = 1.5;
/** Longer than the session's `changed` debounce (10 ms), so that notice is not in the timing. */
const SETTLE_MS = 20;

interface Fixture {
  a: Peer;
  b: Peer;
  pair: Link;
  seedMs: number;
  fullSyncMs: number;
}

interface SizeResult {
  count: number;
  /** Per measured run: wall ms of the pull, GC pauses inside it, process CPU ms in it. */
  samples: number[];
  gcMs: number[];
  cpuMs: number[];
}

async function setUp(count: number): Promise<Fixture> {
  const a = await memoryPeer('benchA');
  const seedMs = await timeAsync(() => seedByPut(a, taskStream(count)));
  const b = await memoryPeer('benchB');
  const pair = await link(a, b);
  let rows = 0;
  const fullSyncMs = await timeAsync(async () => {
    rows = (await pair.sb.pull()).rows;
  });
  if (rows !== count) throw new Error(`incremental: full sync moved ${rows} rows, not ${count}`);
  return { a, b, pair, seedMs, fullSyncMs };
}

/** Distinct record indexes to change in one run. */
function pickIndexes(random: () => number, count: number): number[] {
  const picked = new Set<number>();
  while (picked.size < Math.min(CHANGED, count)) picked.add(Math.floor(random() * count));
  return [...picked];
}

async function measure(count: number, last: boolean): Promise<SizeResult> {
  collectGarbage();
  const fixture = await setUp(count);
  const { a, b, pair } = fixture;
  console.log(
    `incremental ${formatInt(count)}: seeded A by put in ${formatMs(fixture.seedMs / 1000)} s, ` +
      `full sync to B (untimed setup) took ${formatMs(fixture.fullSyncMs / 1000)} s`,
  );
  const random = seededRandom(count);
  const onA = a.collection<TaskValue>(COLLECTION);
  const onB = b.collection<TaskValue>(COLLECTION);
  const gc = new GcMonitor();
  const spans = await sampleRuns(COUNTS, async (run): Promise<Span> => {
    const changed = pickIndexes(random, count).map((index) => ({
      id: taskId(index),
      value: makeTaskValue(random, index, run + 1),
    }));
    for (const { id, value } of changed) await onA.put(id, value);
    await sleep(SETTLE_MS);
    collectGarbage();
    let rows = 0;
    const span = await timeSpan(async () => {
      rows = (await pair.sb.pull()).rows;
    });
    const check = changed[0]!;
    const onBValue = await onB.get(check.id);
    if (rows !== changed.length || !jsonEqual(onBValue, check.value)) {
      throw new Error(`incremental ${count}: pull moved ${rows} rows or lost ${check.id}`);
    }
    return span;
  });
  await sleep(SETTLE_MS);
  gc.stop();
  const samples = spans.map((span) => span.ms);
  const gcMs = spans.map((span) => gc.within(span));
  console.log(`incremental ${formatInt(count)}: runs ms [${samples.map(formatMs).join(', ')}]`);
  if (last) console.log(memoryLine(`incremental ${formatInt(count)}: after the biggest case`));
  await tearDown(fixture);
  return { count, samples, gcMs, cpuMs: spans.map((span) => span.cpuMs) };
}

async function tearDown(fixture: Fixture): Promise<void> {
  fixture.pair.close();
  await fixture.a.stop();
  await fixture.b.stop();
}

export async function incremental(): Promise<void> {
  const results: SizeResult[] = [];
  for (const [index, count] of SIZES.entries()) {
    results.push(await measure(count, index === SIZES.length - 1));
  }
  const baseline = median(results[0]!.samples);
  const baselineCpu = median(results[0]!.cpuMs);
  const rows = results.map(({ count, samples, gcMs, cpuMs }, index): string[] => {
    const ms = median(samples);
    const ratio = ms / baseline;
    const isBaseline = index === 0;
    return [
      formatInt(count),
      formatMs(ms),
      formatMs(median(gcMs)),
      formatMs(median(cpuMs)),
      formatMs(Math.min(...samples)),
      formatMs(Math.max(...samples)),
      isBaseline ? '1.00 (baseline)' : formatRatio(ratio),
      isBaseline ? '' : `<= ${TARGET_RATIO.toFixed(1)}`,
      isBaseline ? '' : ratio <= TARGET_RATIO ? 'yes' : 'NO',
      formatRatio(median(cpuMs) / baselineCpu),
    ];
  });
  printTable(
    `incremental: B pulls ${CHANGED} changed records from A (stores in sync before; ` +
      `median of ${COUNTS.runs} runs after ${COUNTS.warmup} warm-up)`,
    [
      'store records',
      'median ms/pull',
      'of it GC ms',
      'cpu ms',
      'min ms',
      'max ms',
      `ratio vs ${formatInt(SIZES[0]!)}`,
      'target',
      'met',
      'cpu-time ratio',
    ],
    rows,
  );
}
