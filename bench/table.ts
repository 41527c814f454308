/** Shared helpers of the benchmarks: timing, medians, garbage collection and table printing. */
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';

export interface RunCounts {
  /** Runs whose results are thrown away (JIT warm-up, caches). */
  warmup: number;
  /** Runs whose results are kept. */
  runs: number;
}

/** Milliseconds `fn` takes, measured with `performance.now()`. */
export async function timeAsync(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/**
 * A timed window on the `performance.now()` clock, with the CPU time the process used in it
 * (all threads: GC helpers included, time the OS gave to other processes excluded).
 */
export interface Span {
  start: number;
  ms: number;
  cpuMs: number;
}

function cpuMsSince(before: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

/** Times `fn` and keeps where the window lies, to find the GC pauses inside it later. */
export async function timeSpan(fn: () => Promise<unknown>): Promise<Span> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await fn();
  const ms = performance.now() - start;
  return { start, ms, cpuMs: cpuMsSince(cpu) };
}

/** Times a synchronous `fn` as a span. */
export function spanSync(fn: () => unknown): Span {
  const cpu = process.cpuUsage();
  const start = performance.now();
  fn();
  const ms = performance.now() - start;
  return { start, ms, cpuMs: cpuMsSince(cpu) };
}

/**
 * Records the process's GC pauses (perf_hooks `gc` entries, delivered asynchronously), so a
 * benchmark can say how much of a timed window was garbage collection.
 */
export class GcMonitor {
  private readonly pauses: Array<{ start: number; end: number }> = [];
  private readonly observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      this.pauses.push({ start: entry.startTime, end: entry.startTime + entry.duration });
    }
  });

  constructor() {
    this.observer.observe({ entryTypes: ['gc'] });
  }

  /** Milliseconds of GC pause inside `span`; call it after an `await` or two. */
  within(span: Span): number {
    const end = span.start + span.ms;
    let total = 0;
    for (const pause of this.pauses) {
      if (pause.end > span.start && pause.start < end) {
        total += Math.min(pause.end, end) - Math.max(pause.start, span.start);
      }
    }
    return total;
  }

  stop(): void {
    this.observer.disconnect();
  }
}

/**
 * Calls `trial` `warmup + runs` times, one after the other, and returns the results of the
 * measured runs. Each trial does its own untimed setup and returns what it timed.
 */
export async function sampleRuns<T>(
  counts: RunCounts,
  trial: (run: number, measured: boolean) => Promise<T>,
): Promise<T[]> {
  const samples: T[] = [];
  for (let run = 0; run < counts.warmup + counts.runs; run++) {
    const measured = run >= counts.warmup;
    const sample = await trial(run, measured);
    if (measured) samples.push(sample);
  }
  return samples;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Runs a full garbage collection when node was started with `--expose-gc`; else does nothing. */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc === 'function') gc();
}

export function gcAvailable(): boolean {
  return typeof (globalThis as { gc?: unknown }).gc === 'function';
}

/** Lets pending timers and I/O callbacks run (e.g. debounced notices). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function formatMs(ms: number): string {
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toFixed(3);
}

export function formatInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function formatRatio(ratio: number): string {
  return ratio.toFixed(2);
}

export function memoryLine(label: string): string {
  const usage = process.memoryUsage();
  const limit = getHeapStatistics().heap_size_limit;
  const mib = (bytes: number): string => `${formatInt(bytes / 2 ** 20)} MiB`;
  return `${label}: rss ${mib(usage.rss)}, heap used ${mib(usage.heapUsed)} (limit ${mib(limit)})`;
}

/** Prints `rows` under `headers` as an aligned text table; numbers are right-aligned. */
export function printTable(title: string, headers: readonly string[], rows: string[][]): void {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const numeric = /^[-+<>=.,0-9 ]+$/;
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => {
        const width = widths[column] ?? cell.length;
        return numeric.test(cell) ? cell.padStart(width) : cell.padEnd(width);
      })
      .join(' | ')
      .trimEnd();
  console.log(`\n${title}`);
  console.log(line(headers));
  console.log(widths.map((width) => '-'.repeat(width)).join('-|-'));
  for (const row of rows) console.log(line(row));
}
