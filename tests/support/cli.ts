import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The `meshsync` binary in child processes, for the command-line tests: the same entry file
 * package.json's "bin" is built from (`cli/main.ts`), run by Node through tsx so the tests
 * need no build.
 */
export const CLI_ENTRY = fileURLToPath(new URL('../../cli/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function spawnCli(
  args: string[],
  env: Record<string, string> = {},
): ChildProcessWithoutNullStreams {
  // The tests say everything with flags: none of the caller's MESHSYNC_* settings leak in.
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^MESHSYNC_(DATA|SIGNAL|PORT|LOG_LEVEL)$/.test(k)),
  );
  return spawn(process.execPath, ['--import', 'tsx', CLI_ENTRY, ...args], {
    cwd: ROOT,
    env: { ...base, ...env },
  });
}

/** Runs one command to its end; `input` is written to its stdin (then closed). */
export function runCli(
  args: string[],
  options: { input?: string; env?: Record<string, string> } = {},
): Promise<CliResult> {
  const child = spawnCli(args, options.env);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  child.stdin.end(options.input ?? '');
  return new Promise((resolve) =>
    child.on('close', (code) =>
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    ),
  );
}

/** A command that keeps running (`start`, `signal`, `offer`): its output read as it comes. */
export class CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = '';
  stderr = '';
  private readonly waiters = new Set<() => void>();
  readonly exited: Promise<number | null>;

  constructor(args: string[], env: Record<string, string> = {}) {
    this.child = spawnCli(args, env);
    this.child.stdout.on('data', (b: Buffer) => this.take('stdout', b));
    this.child.stderr.on('data', (b: Buffer) => this.take('stderr', b));
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code)));
  }

  private take(stream: 'stdout' | 'stderr', data: Buffer): void {
    this[stream] += data.toString('utf8');
    for (const wake of this.waiters) wake();
  }

  /** Resolves with the first match of `pattern` in the stream (rejects if the process ends). */
  waitFor(pattern: RegExp, stream: 'stdout' | 'stderr' = 'stdout'): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const match = pattern.exec(this[stream]);
        if (match) {
          this.waiters.delete(check);
          resolve(match);
        }
      };
      this.waiters.add(check);
      void this.exited.then(() => {
        if (!this.waiters.has(check)) return;
        this.waiters.delete(check);
        reject(new Error(`exited before ${pattern}: ${this.stderr.slice(-2000)}`));
      });
      check();
    });
  }

  /** JSON log lines on stderr (non-TTY logs are JSON). */
  logs(): Array<Record<string, unknown>> {
    return this.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  write(text: string): void {
    this.child.stdin.write(text);
  }

  /** SIGTERM, then the exit code. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }
}

/** Polls `probe` until it returns a value (not undefined); no wall-clock assertion, only a cap. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  capMs = 30_000,
): Promise<T> {
  const end = Date.now() + capMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
