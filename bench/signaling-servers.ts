/**
 * The signaling benchmark's server processes: bundled with esbuild and run by plain node, so no
 * TypeScript loader sits in the measured RSS; their memory and CPU read from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export type ServerKind = 'meshsync' | 'baseline';

const OUT_DIR = fileURLToPath(new URL('../node_modules/.cache/meshsync-bench/', import.meta.url));
const ENTRIES: Record<ServerKind, string> = {
  meshsync: fileURLToPath(new URL('./signaling-server-child.ts', import.meta.url)),
  baseline: fileURLToPath(new URL('./signaling-baseline-child.ts', import.meta.url)),
};

/** Bundles both server entries (packages stay external: they load from node_modules). */
export async function buildServers(): Promise<Record<ServerKind, string>> {
  await build({
    entryPoints: ENTRIES,
    outdir: OUT_DIR,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
  return { meshsync: `${OUT_DIR}meshsync.mjs`, baseline: `${OUT_DIR}baseline.mjs` };
}

export interface ServerProcess {
  kind: ServerKind;
  url: string;
  pid: number;
  /** Closes its stdin (it exits), or kills it if it lingers. */
  stop(): Promise<void>;
}

export async function startServer(
  kind: ServerKind,
  script: string,
  args: string[],
): Promise<ServerProcess> {
  const proc: ChildProcess = spawn(process.execPath, [script, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const line = await new Promise<string>((resolve, reject) => {
    setTimeout(() => reject(new Error(`${kind} server: no address in 30 s`)), 30_000).unref();
    proc.once('error', reject);
    proc.once('exit', (code) => reject(new Error(`${kind} server exited (${code}) at start`)));
    createInterface({ input: proc.stdout! }).once('line', resolve);
  });
  const { url, pid } = JSON.parse(line) as { url: string; pid: number };
  return {
    kind,
    url,
    pid,
    async stop() {
      proc.stdin!.end();
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface ProcSample {
  rssBytes: number;
  peakRssBytes: number;
  /** User + system CPU time so far. */
  cpuMs: number;
}

/** A process's resident memory (VmRSS, VmHWM) and CPU time (utime + stime), from /proc. */
export function sampleProc(pid: number): ProcSample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1]);
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rssBytes: kb('VmRSS') * 1024, peakRssBytes: kb('VmHWM') * 1024, cpuMs: ticks * 10 };
}
