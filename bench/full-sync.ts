/**
 * full-sync: peer B, empty, pulls every record of peer A over the in-memory transport pair.
 * Baseline, measured in the same runs: the same records as plain objects sent as JSON batches
 * (stringify an array of 2000 -> string -> parse) into a Map by id.
 */
import type { Peer } from '../peer/peer.js';
import { link, memoryPeer, seedByPut } from './fixture.js';
import { makeTasks, meanJsonLength, type TaskValue } from './records.js';
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
  spanSync,
  timeAsync,
  timeSpan,
  GcMonitor,
  type RunCounts,
  type Span,
} from './table.js';

const SIZES: readonly number[] = [10_000, 100_000];
const COUNTS: RunCounts = { warmup: 1, runs: 5 };
const BASELINE_BATCH = 2000;
const TARGET_RATIO = 2.0;

type PlainTask = TaskValue & { id: string };

interface Sample {
  meshsync: Span;
  baseline: Span;
  pages: number;
  wireBytes: number;
}

/** The naive transfer: JSON batches of plain objects into a Map. */
function naiveTransfer(records: readonly PlainTask[]): Map<string, PlainTask> {
  const received = new Map<string, PlainTask>();
  for (let start = 0; start < records.length; start += BASELINE_BATCH) {
    const json = JSON.stringify(records.slice(start, start + BASELINE_BATCH));
    const batch = JSON.parse(json) as PlainTask[];
    for (const record of batch) received.set(record.id, record);
  }
  return received;
}

/** One full sync from `a` to a new empty peer; returns the time of B's pull. */
async function meshsyncTransfer(
  a: Peer,
  device: string,
  count: number,
): Promise<Omit<Sample, 'baseline'>> {
  const b = await memoryPeer(device);
  const pair = await link(a, b);
  let result = { pages: 0, rows: 0, bytes: 0 };
  const meshsync = await timeSpan(async () => {
    result = await pair.sb.pull();
  });
  if (result.rows !== count || (await b.replica.head()) !== count) {
    throw new Error(`full-sync: B received ${result.rows} rows, expected ${count}`);
  }
  pair.close();
  await b.stop();
  return { meshsync, pages: result.pages, wireBytes: result.bytes };
}

async function measureSize(count: number, last: boolean): Promise<string[]> {
  const tasks = makeTasks(count);
  const plain: PlainTask[] = tasks.map((task) => ({ id: task.id, ...task.value }));
  const a = await memoryPeer('benchA');
  const seedMs = await timeAsync(() => seedByPut(a, tasks));
  console.log(
    `full-sync ${formatInt(count)}: seeded A by put in ${formatMs(seedMs)} ms ` +
      `(mean record JSON ${meanJsonLength(tasks).toFixed(0)} bytes)`,
  );
  const gc = new GcMonitor();
  const samples = await sampleRuns(COUNTS, async (run): Promise<Sample> => {
    let baseline: Span = { start: 0, ms: 0, cpuMs: 0 };
    const runBaseline = (): void => {
      collectGarbage();
      baseline = spanSync(() => {
        const received = naiveTransfer(plain);
        if (received.size !== count) throw new Error('baseline lost records');
      });
    };
    // Alternate the order so neither side always pays for the other's garbage.
    if (run % 2 === 0) runBaseline();
    collectGarbage();
    const meshsync = await meshsyncTransfer(a, `benchB${run}`, count);
    if (run % 2 === 1) runBaseline();
    return { ...meshsync, baseline };
  });
  await sleep(10);
  gc.stop();
  const meshsyncMs = median(samples.map((s) => s.meshsync.ms));
  const meshsyncGcMs = median(samples.map((s) => gc.within(s.meshsync)));
  const baselineMs = median(samples.map((s) => s.baseline.ms));
  const baselineGcMs = median(samples.map((s) => gc.within(s.baseline)));
  const ratio = meshsyncMs / baselineMs;
  const cpuRatio =
    median(samples.map((s) => s.meshsync.cpuMs)) / median(samples.map((s) => s.baseline.cpuMs));
  const first = samples[0]!;
  console.log(
    `full-sync ${formatInt(count)}: ${first.pages} pages, ${formatInt(first.wireBytes / 1024)} KiB ` +
      `of frames (${formatInt(first.wireBytes / count)} bytes/row); meshsync runs ms [${samples.map((s) => formatMs(s.meshsync.ms)).join(', ')}], ` +
      `baseline runs ms [${samples.map((s) => formatMs(s.baseline.ms)).join(', ')}]`,
  );
  if (last) console.log(memoryLine(`full-sync ${formatInt(count)}: after the biggest case`));
  await a.stop();
  return [
    formatInt(count),
    formatMs(meshsyncMs),
    formatMs(meshsyncGcMs),
    formatMs(baselineMs),
    formatMs(baselineGcMs),
    formatRatio(ratio),
    `<= ${TARGET_RATIO.toFixed(1)}`,
    ratio <= TARGET_RATIO ? 'yes' : 'NO',
    formatRatio(cpuRatio),
    formatInt(count / (meshsyncMs / 1000)),
  ];
}

export async function fullSync(): Promise<void> {
  const rows: string[][] = [];
  for (const [index, count] of SIZES.entries()) {
    rows.push(await measureSize(count, index === SIZES.length - 1));
    collectGarbage();
  }
  printTable(
    `full-sync: empty B pulls all of A (memory transport, median of ${COUNTS.runs} runs after ${COUNTS.warmup} warm-up)`,
    [
      'records',
      'meshsync ms',
      'of it GC',
      'baseline ms',
      'of it GC',
      'ratio',
      'target',
      'met',
      'cpu-time ratio',
      'receiver records/s',
    ],
    rows,
  );
}
