import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Mesh } from '../../peer/mesh/mesh.js';
import { SqliteStore } from '../../peer/node/sqlite-store.js';
import { createPeer, type Peer } from '../../peer/peer.js';
import { createMemoryTransportPair } from '../../peer/transport/memory-transport.js';
import type { DeviceId } from '../../shared/ids.js';
import { silentLogger } from '../../shared/log.js';
import { SignalingTestbed } from '../peer-signaling/setup.js';
import type { RtcStack } from '../support/rtc-pair.js';

/*
 * Two devices in two processes (one on werift, one on @roamhq/wrtc) find each other through a
 * real signaling server and sync 10k records each way, each side starting a sync. The devices
 * are paired here first (over a memory pair, into SQLite files), then each child opens its
 * file. Only inside a loopback-only network namespace (`npm test` makes one).
 */
const isolated = process.env.MESHSYNC_ISOLATED === '1';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHILD = fileURLToPath(new URL('./fixtures/rtc-peer-child.ts', import.meta.url));
const RECORDS = 10_000;
const COLLECTION = 'records';
const CHILD_TIMEOUT_MS = 90_000;

const bed = new SignalingTestbed();
const children: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await bed.cleanup();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const recordId = (side: string, k: number): string => `${side}-${String(k).padStart(5, '0')}`;
const recordValue = (side: string, k: number) => ({ side, n: k, text: `record ${k} of ${side}` });

function sqlitePeer(path: string): Promise<Peer> {
  return createPeer({ store: new SqliteStore({ path }), logger: silentLogger });
}

/** A and B paired into SQLite files (B joined with an invite), each holding its own records. */
async function pairedFiles(dir: string): Promise<{ a: DeviceId; b: DeviceId }> {
  const [pa, pb] = [await sqlitePeer(join(dir, 'a.db')), await sqlitePeer(join(dir, 'b.db'))];
  try {
    const a = await Mesh.create(pa, { name: 'A' });
    const [t1, t2] = createMemoryTransportPair();
    const [session, joined] = await Promise.all([
      a.connect(t1),
      Mesh.join(pb, await a.invite(), t2, { name: 'B' }),
    ]);
    await joined.session.sync();
    await session.sync();
    t1.close('paired');
    for (const [peer, side] of [
      [pa, 'a'],
      [pb, 'b'],
    ] as const) {
      const rows = Array.from(
        { length: RECORDS },
        (_, k) => [recordId(side, k), recordValue(side, k)] as const,
      );
      await peer.collection(COLLECTION).putMany(rows);
    }
    return { a: a.device, b: joined.mesh.device };
  } finally {
    await pa.stop();
    await pb.stop();
  }
}

interface ChildRun {
  proc: ChildProcessWithoutNullStreams;
  events: Array<Record<string, unknown>>;
  stderr: () => string;
  exit: Promise<number | null>;
  /** Resolves with the first event named `name`; rejects if the child exits first. */
  when(name: string): Promise<Record<string, unknown>>;
}

function startChild(stack: RtcStack, db: string, url: string, other: DeviceId): ChildRun {
  const args = [
    CHILD,
    stack,
    db,
    url,
    other,
    COLLECTION,
    String(2 * RECORDS),
    String(CHILD_TIMEOUT_MS),
  ];
  const proc = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(proc);
  const events: Array<Record<string, unknown>> = [];
  let out = '';
  let err = '';
  const waiting: Array<() => void> = [];
  proc.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    const lines = out.split('\n');
    out = lines.pop()!;
    for (const line of lines)
      if (line.trim()) events.push(JSON.parse(line) as Record<string, unknown>);
    for (const wake of waiting.splice(0)) wake();
  });
  proc.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const run: ChildRun = {
    proc,
    events,
    stderr: () => err,
    exit,
    async when(name) {
      for (;;) {
        const found = events.find((e) => e.event === name);
        if (found) return found;
        if (proc.exitCode !== null) {
          throw new Error(
            `${stack} child exited ${proc.exitCode} before '${name}': ${JSON.stringify(events)} ${err.slice(-2000)}`,
          );
        }
        await Promise.race([new Promise<void>((r) => waiting.push(r)), exit]);
      }
    },
  };
  return run;
}

/** What `path` holds in the collection: the count, and the records asked for by id. */
async function inspect(path: string, ids: string[]): Promise<{ count: number; values: unknown[] }> {
  const peer = await sqlitePeer(path);
  try {
    let count = 0;
    let after: string | undefined;
    for (;;) {
      const page = await peer
        .collection(COLLECTION)
        .list({ limit: 5000, ...(after ? { after } : {}) });
      count += page.length;
      if (page.length < 5000) break;
      after = page[page.length - 1]!.id;
    }
    const values = await Promise.all(ids.map((id) => peer.collection(COLLECTION).get(id)));
    return { count, values };
  } finally {
    await peer.stop();
  }
}

describe.skipIf(!isolated)('WebRTC between two processes', () => {
  it('werift and wrtc devices in separate processes find each other and sync 10k records each way', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshsync-rtc2p-'));
    dirs.push(dir);
    const { a, b } = await pairedFiles(dir);
    const server = await bed.server();
    const started = Date.now();
    const childA = startChild('werift', join(dir, 'a.db'), server.url, b);
    const childB = startChild('wrtc', join(dir, 'b.db'), server.url, a);
    const [syncedA, syncedB] = await Promise.all([childA.when('synced'), childB.when('synced')]);
    const syncMs = Date.now() - started;
    for (const child of [childA, childB]) child.proc.stdin.end('exit\n');
    expect(await childA.exit, childA.stderr()).toBe(0);
    expect(await childB.exit, childB.stderr()).toBe(0);

    // Each started with its own 10k records and, by its own sync, ended with all 20k.
    expect((await childA.when('joined')).have).toBe(RECORDS);
    expect((await childB.when('joined')).have).toBe(RECORDS);
    expect(syncedA.have).toBe(2 * RECORDS);
    expect(syncedB.have).toBe(2 * RECORDS);
    for (const child of [childA, childB]) {
      expect(child.events.find((e) => e.event === 'connected')?.transport).toBe('webrtc');
      expect(child.events.filter((e) => e.event === 'failed' || e.event === 'error')).toEqual([]);
    }

    // The files hold the other side's records, with the values written there.
    const ks = [0, 1, 4999, 7777, RECORDS - 1];
    const inA = await inspect(
      join(dir, 'a.db'),
      ks.map((k) => recordId('b', k)),
    );
    const inB = await inspect(
      join(dir, 'b.db'),
      ks.map((k) => recordId('a', k)),
    );
    expect(inA).toEqual({ count: 2 * RECORDS, values: ks.map((k) => recordValue('b', k)) });
    expect(inB).toEqual({ count: 2 * RECORDS, values: ks.map((k) => recordValue('a', k)) });
    const at = (c: ChildRun, e: string): unknown => c.events.find((x) => x.event === e)?.ms;
    console.log(
      `two processes: both hold ${2 * RECORDS} records ${syncMs} ms after spawning; ` +
        `werift child connected at ${String(at(childA, 'connected'))} ms, synced at ${String(at(childA, 'synced'))} ms; ` +
        `wrtc child connected at ${String(at(childB, 'connected'))} ms, synced at ${String(at(childB, 'synced'))} ms`,
    );
  }, 120_000);
});
