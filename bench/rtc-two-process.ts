/**
 * rtc across two processes, wrtc -> wrtc: A (the offerer, holding the records in a MemoryStore)
 * in this process, the receiving B in a child (`rtc-child.ts`), each with its own JS thread, as
 * two devices would be. The connection is signalled through the child's stdin/stdout as JSON
 * lines carrying the `RtcAttempt` signals; then a plain sync session on each side and B pulls
 * everything (timed in the child, from the request to the last row stored, as `syncOver`
 * times it). Baseline in the same run: the same frame bytes pushed by A through a bare data
 * channel to the child (max-size messages, the transport's backpressure), timed from the first
 * send to the child's report that all arrived. Inside a loopback-only namespace only.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createPeer, type Peer } from '../peer/peer.js';
import { RtcAttempt } from '../peer/rtc/rtc-attempt.js';
import type { DataChannelLike, RtcCandidate, RtcPort } from '../peer/rtc/rtc-port.js';
import { sdpFacts } from '../peer/rtc/sdp-facts.js';
import { MemoryStore } from '../peer/store/memory-store.js';
import { silentLogger } from '../shared/log.js';
import type { RtcSignal } from '../shared/signaling/rtc-signals.js';
import { COLLECTION } from './fixture.js';
import { makeTasks, type Task } from './records.js';
import { RECORDS, SYNC_RUNS, TARGET, tuningOf } from './rtc-config.js';
import {
  benchRtc,
  CandidateFeed,
  closeAllConnections,
  udpReceiveDrops,
  type RtcStack,
} from './rtc-pair.js';
import { availableParallelism } from 'node:os';
import { floorBound, jsonFloor } from './json-floor.js';
import { cpuSince, drainer } from './rtc-raw.js';

export { CandidateFeed };
import { collectGarbage, formatRatio, median, printTable } from './table.js';

export const ATTEMPT_ID = 'aaaaaaaaaaaaaaaa';
const CHILD = fileURLToPath(new URL('./rtc-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const STEP_TIMEOUT_MS = 120_000;
const MB = 1e6;

/** A bare connection's signals across the pipe. */
export type RawSignal =
  { t: 'offer' | 'answer'; sdp: string } | { t: 'candidate'; c: RtcCandidate };

export type ChildCommand =
  | { cmd: 'sync' }
  | { cmd: 'signal'; signal: RtcSignal }
  | { cmd: 'pull'; count: number }
  | { cmd: 'end' }
  | { cmd: 'raw'; bytes: number }
  | ({ cmd: 'rawsig' } & RawSignal)
  | { cmd: 'raw-end' };

type ChildEvent = { ev: string } & Record<string, unknown>;

/** The child B: commands in, events out; `next` waits for an event by name. */
class Child {
  readonly proc: ChildProcessWithoutNullStreams;
  private readonly events: ChildEvent[] = [];
  private readonly waiting: Array<() => void> = [];
  private stderr = '';
  private failure: Error | null = null;
  /** Receives the events that are signals, as they arrive. */
  onSignal: (event: ChildEvent) => void = () => undefined;

  constructor(stack: RtcStack) {
    this.proc = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', CHILD, stack], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    this.proc.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const lines = out.split('\n');
      out = lines.pop()!;
      for (const line of lines) this.line(line);
    });
    this.proc.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.proc.on('exit', (code) => {
      this.failure ??= new Error(`rtc child exited (${code}): ${this.stderr.slice(-2000)}`);
      this.wake();
    });
  }

  private line(line: string): void {
    if (!line.startsWith('{')) return;
    const event = JSON.parse(line) as ChildEvent;
    if (event.ev === 'signal' || event.ev === 'rawsig') return this.onSignal(event);
    if (event.ev === 'error') this.failure = new Error(`rtc child: ${String(event.message)}`);
    else this.events.push(event);
    this.wake();
  }

  private wake(): void {
    for (const wake of this.waiting.splice(0)) wake();
  }

  send(command: ChildCommand): void {
    this.proc.stdin.write(`${JSON.stringify(command)}\n`);
  }

  async next(name: string, timeoutMs = STEP_TIMEOUT_MS): Promise<ChildEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.events.findIndex((e) => e.ev === name);
      if (at >= 0) return this.events.splice(at, 1)[0]!;
      if (this.failure) throw this.failure;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`rtc child: no '${name}' after ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiting.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Ends stdin and waits for a clean exit; kills it if that does not come. */
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    this.proc.stdin.end();
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }
}

export interface TwoProcessRun {
  /** B's pull in the child, from the request to the last row stored. */
  syncMs: number;
  /** The same, seen from here: `pull` written to `done` read. */
  wallMs: number;
  /** A's frame bytes during the pull (before compression), and after it. */
  frameBytes: number;
  wireBytes: number;
  /** CPU of this process (A) and of the child (B) during the pull. */
  cpuMsA: number;
  cpuMsB: number;
  /** The child's RSS after the pull, MiB. */
  rssMbB: number;
  /** UDP datagrams dropped on a full receive buffer (this namespace) during the pull / raw. */
  udpDrops: number;
  rawUdpDrops: number;
  rawMs: number;
  /** CPU of both processes (all threads) while the raw bytes went through. */
  rawCpuMs: number;
}

/** One sync of every record of `a` into the child's fresh B, over a fresh wrtc connection. */
async function syncRun(child: Child, a: Peer, port: RtcPort, count: number) {
  child.send({ cmd: 'sync' });
  let chain = Promise.resolve();
  const attempt: RtcAttempt = new RtcAttempt({
    id: ATTEMPT_ID,
    device: 'b',
    initiator: true,
    rtc: port,
    iceServers: [],
    timeoutMs: 20_000,
    send: (signal) => {
      child.send({ cmd: 'signal', signal });
      return Promise.resolve();
    },
  });
  child.onSignal = (event) => {
    const signal = event.signal as RtcSignal;
    chain = chain.then(async () => {
      if (signal.t === 'answer') await attempt.onAnswer(signal.sdp);
      else if (signal.t === 'candidates') await attempt.onCandidates(signal.c);
    });
  };
  await attempt.start();
  const transport = await attempt.opened;
  try {
    const session = a.connect(transport, { autoPull: false });
    await Promise.all([session.whenReady(), child.next('ready')]);
    const before = { ...transport.stats };
    const drops = udpReceiveDrops();
    const cpu = process.cpuUsage();
    const start = performance.now();
    child.send({ cmd: 'pull', count });
    const done = await child.next('done');
    const wallMs = performance.now() - start;
    const used = process.cpuUsage(cpu);
    session.close('bench done');
    return {
      syncMs: done.ms as number,
      wallMs,
      frameBytes: transport.stats.frameBytesSent - before.frameBytesSent,
      wireBytes: transport.stats.wireBytesSent - before.wireBytesSent,
      cpuMsA: (used.user + used.system) / 1000,
      cpuMsB: done.cpuMs as number,
      rssMbB: done.rssMb as number,
      udpDrops: udpReceiveDrops() - drops,
    };
  } finally {
    transport.close('bench done');
    child.send({ cmd: 'end' });
    await child.next('ended');
  }
}

function randomBytes(length: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(length);
  for (let at = 0; at < length; at += 65_536)
    randomFillSync(bytes, at, Math.min(65_536, length - at));
  return bytes;
}

function whenOpen(channel: DataChannelLike): Promise<void> {
  if (channel.readyState === 'open') return Promise.resolve();
  return new Promise((resolve) => channel.addEventListener('open', () => resolve()));
}

/** `bytes` from A through a bare channel to the child in max-size messages; returns ms. */
async function rawRun(
  child: Child,
  port: RtcPort,
  bytes: number,
): Promise<{ ms: number; childMs: number; udpDrops: number; cpuMs: number }> {
  child.send({ cmd: 'raw', bytes });
  const connection = port.createConnection({ iceServers: [] });
  try {
    const feed = new CandidateFeed(connection);
    let chain = Promise.resolve();
    child.onSignal = (event) => {
      const signal = event as unknown as RawSignal;
      chain = chain.then(async () => {
        if (signal.t === 'answer') {
          await connection.accept({ type: 'answer', sdp: signal.sdp });
          feed.ready();
        } else if (signal.t === 'candidate') feed.add(signal.c);
      });
      chain.catch((err: unknown) => console.error(`rtc two processes: raw answer: ${String(err)}`));
    };
    connection.onCandidate((c) => c && child.send({ cmd: 'rawsig', t: 'candidate', c }));
    const channel = connection.createDataChannel('bench');
    const offer = await connection.offer();
    child.send({ cmd: 'rawsig', t: 'offer', sdp: offer.sdp });
    await Promise.all([whenOpen(channel), child.next('raw-open', 20_000)]);
    if (channel.binaryType !== undefined) channel.binaryType = 'arraybuffer';
    const facts = sdpFacts(connection.localDescription(), connection.remoteDescription());
    const messageBytes = Math.min(port.tuning.messageBytes, facts.maxMessageBytes);
    const payload = randomBytes(messageBytes);
    const tail = payload.slice(0, bytes % messageBytes);
    const drain = drainer(channel, port.tuning);
    const drops = udpReceiveDrops();
    const cpu = process.cpuUsage();
    const start = performance.now();
    for (let sent = 0; sent < bytes;) {
      if (channel.bufferedAmount > port.tuning.highWaterBytes) await drain();
      const message = bytes - sent >= messageBytes ? payload : tail;
      channel.send(message);
      sent += message.length;
    }
    const done = await child.next('raw-done');
    return {
      ms: performance.now() - start,
      childMs: done.ms as number,
      udpDrops: udpReceiveDrops() - drops,
      cpuMs: cpuSince(cpu) + (done.cpuMs as number),
    };
  } finally {
    connection.close();
    child.send({ cmd: 'raw-end' });
    await child.next('raw-ended');
  }
}

async function seededPeer(tasks: readonly Task[]): Promise<Peer> {
  const peer = await createPeer({ store: new MemoryStore(), logger: silentLogger });
  await peer.collection(COLLECTION).putMany(tasks.map((t) => [t.id, t.value] as const));
  return peer;
}

export interface TwoProcessResult {
  runs: TwoProcessRun[];
  syncS: number;
  frameMbps: number;
  rawMbps: number;
  ratio: number;
  /** The best ratio the JSON floor allows here (json-floor.ts), each end on its own thread. */
  jsonBound: number;
}

/**
 * Measures wrtc -> wrtc with B in a child process: `runs` syncs of `tasks` (default: RECORDS
 * made here) each followed by the raw baseline of the same bytes; prints the medians.
 */
export async function rtcTwoProcess(
  stack: RtcStack = 'wrtc',
  tasks: readonly Task[] = makeTasks(RECORDS),
  runs = SYNC_RUNS,
): Promise<TwoProcessResult> {
  const port = benchRtc(stack, tuningOf(stack));
  const a = await seededPeer(tasks);
  collectGarbage();
  const floor = await jsonFloor(a.replica.store);
  const child = new Child(stack);
  const samples: TwoProcessRun[] = [];
  try {
    for (let run = 0; run < runs; run++) {
      collectGarbage();
      const sync = await syncRun(child, a, port, tasks.length);
      collectGarbage();
      const raw = await rawRun(child, port, sync.frameBytes);
      samples.push({ ...sync, rawMs: raw.ms, rawUdpDrops: raw.udpDrops, rawCpuMs: raw.cpuMs });
      console.log(
        `rtc two processes, run ${run + 1}: sync ${(sync.syncMs / 1000).toFixed(2)} s ` +
          `(${(sync.wallMs / 1000).toFixed(2)} s seen by A), ${(sync.frameBytes / MB).toFixed(1)} MB frames, ` +
          `${(sync.wireBytes / MB).toFixed(1)} MB wire, cpu A ${(sync.cpuMsA / 1000).toFixed(2)} s, ` +
          `B ${(sync.cpuMsB / 1000).toFixed(2)} s (B rss ${sync.rssMbB.toFixed(0)} MiB), ${sync.udpDrops} UDP drops; ` +
          `raw ${(raw.ms / 1000).toFixed(2)} s (first to last byte in B ${(raw.childMs / 1000).toFixed(2)} s), ` +
          `cpu A + B ${(raw.cpuMs / 1000).toFixed(2)} s, ${raw.udpDrops} UDP drops`,
      );
    }
    await child.stop();
  } catch (err) {
    child.kill();
    throw err;
  } finally {
    closeAllConnections();
    await a.stop();
  }
  const mbps = (bytes: number, ms: number): number => bytes / MB / (ms / 1000);
  const frameMbps = median(samples.map((s) => mbps(s.frameBytes, s.syncMs)));
  const rawMbps = median(samples.map((s) => mbps(s.frameBytes, s.rawMs)));
  const result: TwoProcessResult = {
    runs: samples,
    syncS: median(samples.map((s) => s.syncMs / 1000)),
    frameMbps,
    rawMbps,
    ratio: frameMbps / rawMbps,
    jsonBound: floorBound(
      median(samples.map((s) => s.rawMs)),
      floor,
      median(samples.map((s) => s.rawCpuMs)),
      { sharedThread: false, cores: availableParallelism() },
    ),
  };
  printTable(
    `rtc, two processes (${stack} -> ${stack}, B in a child process): ${tasks.length} records, medians of ${samples.length} runs`,
    ['pair', 'sync s', 'frame MB/s', 'raw MB/s', 'sync/raw', 'JSON bound', 'target', 'met'],
    [
      [
        `${stack} -> ${stack}`,
        result.syncS.toFixed(2),
        frameMbps.toFixed(1),
        rawMbps.toFixed(1),
        formatRatio(result.ratio),
        formatRatio(result.jsonBound),
        `${stack === 'werift' ? '>' : '>='} ${TARGET[stack].toFixed(2)}`,
        (stack === 'werift' ? result.ratio > TARGET.werift : result.ratio >= TARGET.wrtc)
          ? 'yes'
          : 'NO',
      ],
    ],
  );
  console.log(
    'sync s: B pulling every record, timed in the child; raw MB/s: the same frame bytes from A to ' +
      'the child through a bare data channel (max-size messages, the same backpressure), fresh ' +
      'connection each run. JSON bound: the best sync/raw any sync of these pages in JSON could ' +
      `reach here: the sender's JSON (stringify, encode: ${floor.sendMs.toFixed(0)} ms) or the ` +
      `receiver's (decode, parse: ${floor.receiveMs.toFixed(0)} ms), whichever is longer, and all ` +
      `of it plus the raw channel's CPU over ${availableParallelism()} cores (bench/json-floor.ts).`,
  );
  return result;
}
