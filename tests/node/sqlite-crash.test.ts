import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../peer/node/sqlite-store.js';
import { StreamTransport } from '../../peer/node/stream-transport.js';
import { createPeer, type Peer } from '../../peer/peer.js';
import type { SyncSession } from '../../peer/sync/session.js';
import { silentLogger } from '../../shared/log.js';
import { memoryPeer } from '../support/peers.js';

/**
 * Crash safety with a real process: a child syncing 100k records into SQLite is killed with
 * SIGKILL at random moments (at least 20 times). After every kill the store must open, pass
 * SQLite's integrity check, hold exactly the records up to its cursor (no half-applied page),
 * and the next child must resume from that cursor; re-sent data per kill is at most one page.
 */
const RECORDS = Number(process.env.MESHSYNC_CRASH_RECORDS ?? 100_000);
const KILLS = Number(process.env.MESHSYNC_CRASH_KILLS ?? 20);
const PAGE = 500;
const child = fileURLToPath(new URL('./fixtures/crash-receiver.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'meshsync-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  outcome: 'killed' | 'done';
  rowsSent: number;
  firstAfter: number | null;
}

/** Starts the child on `path` and, unless `killAfterMs` is null, kills it that long after its first page. */
function runChild(sender: Peer, path: string, killAfterMs: number | null): Promise<Run> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, path, String(PAGE)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const session: SyncSession = sender.connect(new StreamTransport(proc.stdout, proc.stdin), {
      autoPull: false,
    });
    let firstAfter: number | null = null;
    session.transport.on('message', (frame) => {
      // Note where each pull of the child starts (bytes: header type 3 = pull).
      if (frame[3] === 3 && firstAfter === null) {
        const body = JSON.parse(new TextDecoder().decode(frame.subarray(8))) as { after: number };
        firstAfter = body.after;
      }
    });
    let stderr = '';
    let killTimer: ReturnType<typeof setTimeout> | undefined;
    proc.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (killAfterMs !== null && killTimer === undefined && stderr.includes('page ')) {
        killTimer = setTimeout(() => proc.kill('SIGKILL'), killAfterMs);
      }
    });
    proc.on('error', reject);
    proc.on('exit', (code, signal) => {
      clearTimeout(killTimer);
      const rowsSent = session.status().rowsOut;
      session.close('child gone');
      if (signal === 'SIGKILL') resolve({ outcome: 'killed', rowsSent, firstAfter });
      else if (code === 0 && stderr.includes('done'))
        resolve({ outcome: 'done', rowsSent, firstAfter });
      else reject(new Error(`child exited ${code} ${signal}: ${stderr.slice(-2000)}`));
    });
  });
}

/** Opens the store like a restarted app would and checks it. Returns the cursor into the sender. */
async function inspect(path: string, sender: Peer): Promise<number> {
  const store = new SqliteStore({ path });
  await store.open();
  try {
    expect(await store.integrityCheck()).toEqual(['ok']);
    const cursor = (await store.getCursor(sender.device))?.seq ?? 0;
    // The sender's records have seqs 1..RECORDS and never change, so a store that applied whole
    // pages only holds exactly `cursor` records, each with its own seq.
    expect(await store.lastSeq()).toBe(cursor);
    const all = await store.changesSince(0, RECORDS + 1);
    expect(all.length).toBe(cursor);
    return cursor;
  } finally {
    await store.close();
  }
}

describe('SQLite crash safety (real process, SIGKILL)', () => {
  it(`survives ${KILLS}+ kills while syncing ${RECORDS} records, and ends converged`, async () => {
    const sender = await memoryPeer('crashA1');
    const tasks = sender.collection('tasks');
    for (let k = 0; k < RECORDS; k++) {
      await tasks.put(`t${String(k).padStart(6, '0')}`, {
        title: `task ${k}`,
        notes: 'n'.repeat(120),
        done: k % 2 === 0,
      });
    }
    let path = join(dir, 'receiver-0.db');
    let kills = 0;
    let restarts = 0;
    let cursor = 0;
    let resent = 0;
    let maxResentPerKill = 0;
    for (;;) {
      const killing = kills < KILLS;
      const run = await runChild(sender, path, killing ? Math.floor(Math.random() * 120) : null);
      // The new child resumed exactly where the durable cursor said.
      expect(run.firstAfter).toBe(cursor);
      const next = await inspect(path, sender);
      const wasted = run.rowsSent - (next - cursor);
      expect(wasted).toBeGreaterThanOrEqual(0);
      expect(wasted).toBeLessThanOrEqual(PAGE); // at most the page in flight
      resent += wasted;
      maxResentPerKill = Math.max(maxResentPerKill, wasted);
      cursor = next;
      if (run.outcome === 'killed') {
        kills++;
        continue;
      }
      if (kills >= KILLS) break;
      // Finished before enough kills (a fast machine): start again on a fresh file.
      restarts++;
      path = join(dir, `receiver-${restarts}.db`);
      cursor = 0;
    }
    expect(cursor).toBe(RECORDS);
    // Converged: the receiver holds exactly the sender's data.
    const receiver = await createPeer({ store: new SqliteStore({ path }), logger: silentLogger });
    for (const id of [
      't000000',
      `t${String(RECORDS - 1).padStart(6, '0')}`,
      `t${String(RECORDS >> 1).padStart(6, '0')}`,
    ]) {
      expect(await receiver.collection('tasks').get(id)).toEqual(await tasks.get(id));
    }
    let after: string | undefined;
    let compared = 0;
    for (;;) {
      const [mine, theirs] = await Promise.all([
        tasks.list({ limit: 5000, ...(after === undefined ? {} : { after }) }),
        receiver
          .collection('tasks')
          .list({ limit: 5000, ...(after === undefined ? {} : { after }) }),
      ]);
      expect(theirs).toEqual(mine);
      if (mine.length === 0) break;
      compared += mine.length;
      after = mine[mine.length - 1]!.id;
    }
    expect(compared).toBe(RECORDS);
    await receiver.stop();
    console.log(
      `crash test: ${kills} kills, ${restarts} restarts, ${resent} rows re-sent in all (max ${maxResentPerKill} per kill, page ${PAGE})`,
    );
  }, 600_000);
});
