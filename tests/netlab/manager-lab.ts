import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Mesh } from '../../peer/mesh/mesh.js';
import { SqliteStore } from '../../peer/node/sqlite-store.js';
import { createPeer, type Peer } from '../../peer/peer.js';
import { createMemoryTransportPair } from '../../peer/transport/memory-transport.js';
import { silentLogger } from '../../shared/log.js';
import type { Lab, LabHost } from '../support/netns.js';
import type { ManagerChildConfig } from './fixtures/manager-peer-child.js';

const CHILD = fileURLToPath(new URL('./fixtures/manager-peer-child.ts', import.meta.url));
const SIGNAL = fileURLToPath(new URL('../../signaling/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export const DIRECT_PORT = 8787;
export const SIGNAL_PORT = 7000;

/**
 * `count` devices of one mesh paired into SQLite files in `dir` (`a.db`, `b.db`, `c.db`...): each
 * joined A with an invite, and every one holds the whole member list. Resolves with the paths:
 * `a`, `b`, and all of them in order.
 */
export async function pairedDbs(
  dir: string,
  count = 2,
): Promise<{ a: string; b: string; all: string[] }> {
  const names = Array.from({ length: count }, (_, i) => `${String.fromCharCode(97 + i)}.db`);
  const open = (name: string): Promise<Peer> =>
    createPeer({ store: new SqliteStore({ path: join(dir, name) }), logger: silentLogger });
  const peers: Peer[] = [];
  for (const name of names) peers.push(await open(name));
  try {
    const [pa, ...others] = peers as [Peer, ...Peer[]];
    const a = await Mesh.create(pa, { name: 'A' });
    const sessions = [];
    for (const [k, p] of others.entries()) {
      const [t1, t2] = createMemoryTransportPair();
      const [session, joined] = await Promise.all([
        a.connect(t1),
        Mesh.join(p, await a.invite(), t2, { name: String.fromCharCode(66 + k) }),
      ]);
      await joined.session.sync();
      await session.sync();
      sessions.push({ session, joined: joined.session, t1 });
    }
    // The ones that joined early learn of the later ones.
    for (const { session, joined } of sessions) {
      await session.sync();
      await joined.sync();
    }
    for (const { t1 } of sessions) t1.close('paired');
  } finally {
    for (const p of peers) await p.stop();
  }
  const all = names.map((name) => join(dir, name));
  return { a: all[0]!, b: all[1]!, all };
}

/** A device of a mesh of its own (a stranger to `pairedDbs`' mesh), in `dir/<name>`. */
export async function strangerDb(dir: string, name = 'stranger.db'): Promise<string> {
  const peer = await createPeer({
    store: new SqliteStore({ path: join(dir, name) }),
    logger: silentLogger,
  });
  try {
    await Mesh.create(peer, { name: 'S' });
  } finally {
    await peer.stop();
  }
  return join(dir, name);
}

type Line = Record<string, unknown>;

/** A peer child (fixtures/manager-peer-child.ts) running in one host of the lab. */
export class LabPeer {
  readonly lines: Line[] = [];
  private readonly waiters: Array<() => void> = [];
  stderr = '';
  exited = false;
  device = '';
  private readonly proc: ChildProcess;

  constructor(lab: Lab, host: LabHost, config: ManagerChildConfig) {
    this.proc = lab.spawnIn(
      host,
      process.execPath,
      ['--import', 'tsx', CHILD, JSON.stringify(config)],
      { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    createInterface({ input: this.proc.stdout! }).on('line', (text) => {
      try {
        this.lines.push(JSON.parse(text) as Line);
      } catch {
        this.stderr += `(stdout) ${text}\n`;
      }
      this.wake();
    });
    this.proc.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.proc.on('exit', () => {
      this.exited = true;
      this.wake();
    });
  }

  private wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** The first line (from `from` on) matching `match`; rejects after `ms` or if the child exits. */
  async next(match: (line: Line) => boolean, ms = 20_000, from = 0): Promise<Line> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.lines.slice(from).find(match);
      if (found) return found;
      if (this.exited) throw new Error(`child exited before the line came:\n${this.stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no such line in ${ms} ms:\n${this.stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 500));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async ready(): Promise<string> {
    const line = await this.next((l) => l.event === 'ready', 30_000);
    this.device = String(line.device);
    return this.device;
  }

  /** Sends a command and waits for its reply. */
  async ask(command: Line, ms = 20_000): Promise<Line> {
    const from = this.lines.length;
    this.proc.stdin!.write(`${JSON.stringify(command)}\n`);
    return this.next((l) => l.reply !== undefined, ms, from);
  }

  async count(collection: string): Promise<number> {
    return Number((await this.ask({ op: 'count', collection })).count);
  }

  /** This device's view of `device` in the manager's status. */
  async peerStatus(device: string): Promise<Record<string, unknown> | undefined> {
    const status = (await this.ask({ op: 'status' })).status as {
      peers: Array<Record<string, unknown>>;
    };
    return status.peers.find((p) => p.device === device);
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    await this.ask({ op: 'stop' }, 10_000).catch(() => undefined);
  }

  kill(): void {
    this.proc.kill('SIGKILL');
  }
}

/** Polls `check` every 100 ms until it holds; fails after `ms` with `what`. */
export async function until(
  what: string,
  check: () => Promise<boolean>,
  ms = 30_000,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > ms) throw new Error(`not in ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A signaling server in `host`, reachable by both hosts; resolves with its URL when it serves. */
export async function startSignal(lab: Lab, host: LabHost): Promise<ChildProcess> {
  const proc = lab.spawnIn(
    host,
    process.execPath,
    [
      '--import',
      'tsx',
      SIGNAL,
      'signal',
      '--host',
      host.ip,
      '--port',
      String(SIGNAL_PORT),
      '--log-level',
      'warn',
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let err = '';
  proc.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const deadline = Date.now() + 20_000;
  for (;;) {
    const up = await lab
      .exec(host, [
        'node',
        '-e',
        `fetch('http://${host.ip}:${SIGNAL_PORT}/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`,
      ])
      .then(
        () => true,
        () => false,
      );
    if (up) return proc;
    if (Date.now() > deadline || proc.exitCode !== null) {
      throw new Error(`signaling server did not start: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

export const signalUrl = (host: LabHost): string => `ws://${host.ip}:${SIGNAL_PORT}/signal`;

/** Drops UDP in `host` (loopback excepted); with `keepTcp`, also every TCP port not listed. */
export function blockRules(keepTcp?: readonly number[]): string {
  const tcp = keepTcp
    ? `tcp dport { ${keepTcp.join(', ')} } accept; tcp sport { ${keepTcp.join(', ')} } accept; meta l4proto tcp drop;`
    : '';
  return `table inet labblock {
  chain input { type filter hook input priority 0; policy accept; iif "lo" accept; meta l4proto udp drop; ${tcp} }
  chain output { type filter hook output priority 0; policy accept; oif "lo" accept; meta l4proto udp drop; ${tcp} }
}`;
}

export async function unblock(lab: Lab, host: LabHost): Promise<void> {
  await lab.exec(host, ['nft', 'delete', 'table', 'inet', 'labblock']);
}
