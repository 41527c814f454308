import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Lab, LabHost } from '../support/netns.js';

/**
 * Runs two werift children (fixtures/werift-peer-child.ts) in a lab: the offerer in host a, the
 * answerer in host b. This process relays their SDP lines, waits for the data-channel message to
 * arrive, keeps both connected for `settleMs` more, then ends their stdin and waits for them to
 * exit (killing them if they do not). Rejects with the children's stderr on any failure.
 */

const CHILD = fileURLToPath(new URL('./fixtures/werift-peer-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Longest wait for one line from a child (the raw control gathers for up to 5 s). */
const LINE_MS = 15_000;
const EXIT_MS = 5_000;

export interface PairResult {
  sent: string;
  received: string;
}

interface Line {
  sdp?: string;
  sent?: string;
  received?: string;
}

/** A child speaking JSON lines; `next(key)` waits for the next line carrying `key`. */
class LineChild {
  private readonly queue: Line[] = [];
  private readonly waiters: (() => void)[] = [];
  stderr = '';
  exited = false;

  constructor(
    readonly name: string,
    readonly proc: ChildProcess,
  ) {
    createInterface({ input: proc.stdout! }).on('line', (text) => {
      try {
        this.queue.push(JSON.parse(text) as Line);
      } catch {
        this.stderr += `(stdout) ${text}\n`;
      }
      this.waiters.splice(0).forEach((wake) => wake());
    });
    proc.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    const gone = (): void => {
      this.exited = true;
      this.waiters.splice(0).forEach((wake) => wake());
    };
    proc.on('exit', gone);
    proc.on('error', (error) => ((this.stderr += `${String(error)}\n`), gone()));
  }

  async next<K extends keyof Line>(key: K): Promise<NonNullable<Line[K]>> {
    const deadline = Date.now() + LINE_MS;
    for (;;) {
      const at = this.queue.findIndex((line) => line[key] !== undefined);
      if (at >= 0) return this.queue.splice(at, 1)[0]![key]!;
      if (this.exited) throw new Error(`${this.name} exited before "${key}"`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no "${key}" within ${LINE_MS} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
  }

  send(line: Line): void {
    this.proc.stdin!.write(`${JSON.stringify(line)}\n`);
  }

  /** Ends stdin (the child's cue to exit) and waits; SIGKILL after EXIT_MS. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    this.proc.stdin!.end();
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), EXIT_MS);
    await gone;
    clearTimeout(timer);
  }
}

export async function runWeriftPair(
  lab: Lab,
  options: { rawOfferer: boolean; settleMs: number },
): Promise<PairResult> {
  const start = (role: string, host: LabHost, raw: boolean): LineChild => {
    const args = ['--import', 'tsx', CHILD, role, ...(raw ? ['--raw'] : [])];
    const proc = lab.spawnIn(host, process.execPath, args, { cwd: ROOT, stdio: 'pipe' });
    return new LineChild(`${role} child in ${host.name}`, proc);
  };
  const offerer = start('offer', lab.a, options.rawOfferer);
  const answerer = start('answer', lab.b, false);
  try {
    answerer.send({ sdp: await offerer.next('sdp') });
    offerer.send({ sdp: await answerer.next('sdp') });
    const [sent, received] = await Promise.all([offerer.next('sent'), answerer.next('received')]);
    await new Promise((resolve) => setTimeout(resolve, options.settleMs));
    return { sent, received };
  } catch (error) {
    const logs = [offerer, answerer].map((child) => `${child.name}:\n${child.stderr}`);
    throw new Error(`${String(error)}\n${logs.join('\n')}`, { cause: error });
  } finally {
    await Promise.all([offerer.stop(), answerer.stop()]);
  }
}
