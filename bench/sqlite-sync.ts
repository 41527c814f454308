/**
 * sqlite-sync: full sync of 100k records from a SQLite peer to an empty SQLite peer in another
 * process, over the child's stdin/stdout (stream transport), with the receiver's peak RSS; then
 * 1M records once, to show the receiver's memory stays bounded.
 * Baseline, measured in the same runs and over the same pipe: the same records as plain objects
 * sent as JSON batches of 2000 into a Map in the child.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteStore } from '../peer/node/sqlite-store.js';
import { StreamTransport } from '../peer/node/stream-transport.js';
import { createPeer, type Peer } from '../peer/peer.js';
import { silentLogger } from '../shared/log.js';
import { taskStream, type Task } from './records.js';
import { formatInt, formatMs, formatRatio, median, printTable } from './table.js';

const RUNS = 5;
const PAGE_ROWS = 2000;
const BATCH = 2000;
const TARGET_RATIO = 4;
const TARGET_RSS_MB = 200;
const child = fileURLToPath(new URL('./fixtures/sqlite-receiver.ts', import.meta.url));

interface Report {
  rows: number;
  ms: number;
  maxRssKb: number;
}

/**
 * Runs the receiver; `feed` starts at spawn (a sync session, whose handshake is part of it) or
 * once the receiver says "ready" (the baseline). Resolves with its report.
 */
function receive(
  args: string[],
  feed: (stdin: NodeJS.WritableStream, stdout: NodeJS.ReadableStream) => void,
): Promise<Report> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    let fed = args[0] === 'meshsync';
    if (fed) feed(proc.stdin, proc.stdout);
    proc.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!fed && stderr.includes('ready\n')) {
        fed = true;
        feed(proc.stdin, proc.stdout);
      }
    });
    proc.on('error', reject);
    proc.on('exit', (code) => {
      const line = stderr.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || !line) reject(new Error(`receiver exited ${code}: ${stderr.slice(-1000)}`));
      else resolve(JSON.parse(line) as Report);
    });
  });
}

async function meshsyncRun(sender: Peer, dir: string, run: number): Promise<Report> {
  const path = join(dir, `receiver-${run}.db`);
  let close = (): void => undefined;
  const report = await receive(['meshsync', path, String(PAGE_ROWS)], (stdin, stdout) => {
    const session = sender.connect(new StreamTransport(stdout as never, stdin as never), {
      autoPull: false,
    });
    close = () => session.close('done');
  });
  close();
  rmSync(path, { force: true });
  rmSync(`${path}-wal`, { force: true });
  rmSync(`${path}-shm`, { force: true });
  return report;
}

async function baselineRun(tasks: readonly Task[]): Promise<Report> {
  return receive(['baseline'], (stdin) => {
    void (async () => {
      for (let start = 0; start < tasks.length; start += BATCH) {
        const json = JSON.stringify(
          tasks.slice(start, start + BATCH).map((t) => ({ id: t.id, ...t.value })),
        );
        const body = Buffer.from(json, 'utf8');
        const head = Buffer.alloc(4);
        head.writeUInt32BE(body.length);
        stdin.write(head);
        if (!stdin.write(body)) await new Promise((r) => stdin.once('drain', r));
      }
      stdin.end();
    })();
  });
}

async function seed(
  count: number,
  dir: string,
  name: string,
): Promise<{ peer: Peer; tasks: Task[] | null; ms: number }> {
  const peer = await createPeer({
    store: new SqliteStore({ path: join(dir, name), synchronous: 'normal' }),
    device: 'benchA1',
    logger: silentLogger,
  });
  const keep = count <= 100_000;
  const tasks: Task[] = [];
  const start = performance.now();
  let batch: Array<[string, Task['value']]> = [];
  for (const task of taskStream(count)) {
    if (keep) tasks.push(task);
    batch.push([task.id, task.value]);
    if (batch.length === 10_000) {
      await peer.collection('tasks').putMany(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await peer.collection('tasks').putMany(batch);
  return { peer, tasks: keep ? tasks : null, ms: performance.now() - start };
}

export async function sqliteSync(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'meshsync-bench-sqlite-'));
  try {
    const { peer: sender, tasks, ms: seedMs } = await seed(100_000, dir, 'sender-100k.db');
    console.log(
      `sqlite-sync 100,000: seeded the sender's SQLite store in ${formatMs(seedMs)} ms (putMany, 10k per transaction)`,
    );
    const mesh: Report[] = [];
    const base: Report[] = [];
    await meshsyncRun(sender, dir, -1); // warm-up
    for (let run = 0; run < RUNS; run++) {
      mesh.push(await meshsyncRun(sender, dir, run));
      base.push(await baselineRun(tasks!));
    }
    await sender.stop();
    if (mesh.some((r) => r.rows !== 100_000) || base.some((r) => r.rows !== 100_000)) {
      throw new Error(`sqlite-sync: a receiver got the wrong number of rows`);
    }
    const mMs = median(mesh.map((r) => r.ms));
    const bMs = median(base.map((r) => r.ms));
    const mRss = median(mesh.map((r) => r.maxRssKb / 1024));
    const bRss = median(base.map((r) => r.maxRssKb / 1024));
    printTable(
      `sqlite-sync: SQLite -> SQLite in another process over a pipe (median of ${RUNS} runs after 1 warm-up)`,
      [
        'records',
        'meshsync ms',
        'baseline ms',
        'ratio',
        'target',
        'met',
        'receiver peak RSS MB',
        'baseline peak RSS MB',
        'RSS target',
        'met',
        'records/s',
      ],
      [
        [
          formatInt(100_000),
          formatMs(mMs),
          formatMs(bMs),
          formatRatio(mMs / bMs),
          `<= ${TARGET_RATIO}`,
          mMs / bMs <= TARGET_RATIO ? 'yes' : 'NO',
          mRss.toFixed(0),
          bRss.toFixed(0),
          `<= ${TARGET_RSS_MB}`,
          mRss <= TARGET_RSS_MB ? 'yes' : 'NO',
          formatInt(Math.round(100_000 / (mMs / 1000))),
        ],
      ],
    );
    console.log(
      `sqlite-sync runs: meshsync ms [${mesh.map((r) => r.ms.toFixed(0)).join(', ')}], baseline ms [${base.map((r) => r.ms.toFixed(0)).join(', ')}]`,
    );

    if (process.env.MESHSYNC_BENCH_SKIP_1M === '1') return;
    const big = await seed(1_000_000, dir, 'sender-1m.db');
    console.log(`sqlite-sync 1,000,000: seeded in ${formatMs(big.ms / 1000)} s`);
    const once = await meshsyncRun(big.peer, dir, 1_000_000);
    await big.peer.stop();
    printTable(
      'sqlite-sync: 1M records SQLite -> SQLite (one run): the receiver streams pages, its memory stays bounded',
      ['records', 'seconds', 'records/s', 'receiver peak RSS MB', 'vs 100k'],
      [
        [
          formatInt(once.rows),
          formatMs(once.ms / 1000),
          formatInt(Math.round(once.rows / (once.ms / 1000))),
          (once.maxRssKb / 1024).toFixed(0),
          `${(once.maxRssKb / 1024 / mRss).toFixed(2)}x`,
        ],
      ],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
