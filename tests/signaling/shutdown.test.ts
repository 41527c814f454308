import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { CLOSE_CODES } from '../../shared/signaling/messages.js';
import { runSignalCommand } from '../../signaling/cli.js';
import { rejectionCode } from '../support/codes.js';
import {
  httpGet,
  newIdentity,
  newRoom,
  RawClient,
  refusedStatus,
  signalingHarness,
  until,
} from '../support/signaling-raw.js';

const h = signalingHarness();
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

/** `meshsync ...args` from the sources, as the `bin` would run it. */
function meshsync(...args: string[]): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', 'signaling/main.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, PORT: undefined },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exit };
}

/** The JSON log lines printed so far, waiting until one has `msg`. */
async function logLine(run: Run, msg: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 8000;
  for (;;) {
    const lines = run.stdout().split('\n').filter(Boolean);
    const found = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((e) => e.msg === msg);
    if (found) return found;
    if (run.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`no log line '${msg}'; stdout: ${run.stdout()} stderr: ${run.stderr()}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('signaling shutdown', { timeout: 15_000 }, () => {
  it('close(): every client gets shutdown, then 1001; then nothing listens', async () => {
    const server = await h.start({}, { shutdownRetryMs: 1234 });
    const room = newRoom();
    const member = await h.member(server, room);
    const lurker = await h.connect(server);
    await server.close();
    for (const client of [member.client, lurker]) {
      expect(await client.closed).toEqual({
        code: CLOSE_CODES.goingAway,
        reason: 'server shutting down',
      });
      expect(client.log.at(-1)).toEqual({ t: 'shutdown', retryMs: 1234 });
    }
    expect(server.stats()).toEqual({ connections: 0, rooms: 0, members: 0 });
    await expect(RawClient.connect(server.url)).rejects.toThrow(/closed/);
    await expect(httpGet(server, '/healthz')).rejects.toThrow();
  });

  it('while draining: /healthz is 503 and new upgrades are refused', async () => {
    const server = await h.start({}, { shutdownGraceMs: 1000 });
    const slow = await h.connect(server);
    const quick = await h.connect(server);
    slow.pauseReading(); // never reads the close frame: the server waits for it
    const closing = server.close();
    expect((await quick.closed).code).toBe(CLOSE_CODES.goingAway);

    const health = await httpGet(server, '/healthz');
    expect(health.status).toBe(503);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'draining', connections: 1 });
    expect(await refusedStatus(server.url)).toBe(503);

    await closing; // the grace ran out: the slow one is cut
    slow.resumeReading();
    await slow.closed;
    expect(slow.log.some((m) => m.t === 'shutdown')).toBe(true);
    await until(() => server.stats().connections === 0);
  });

  it('the CLI logs JSON, and on SIGTERM tells clients, drains and exits 0', async () => {
    const run = meshsync('signal', '--port', '0', '--limit', 'maxMembersPerRoom=3');
    const listening = await logLine(run, 'signaling server listening');
    expect(listening).toMatchObject({ level: 'info', host: '127.0.0.1', path: '/signal' });
    expect(typeof listening.time).toBe('string');
    const port = listening.port as number;
    expect(port).toBeGreaterThan(0);

    const client = h.track(await RawClient.connect(`ws://127.0.0.1:${port}/signal`));
    expect(client.hello.limits.maxMembersPerRoom).toBe(3);
    expect(await client.join(newRoom(), newIdentity())).toMatchObject({ t: 'joined' });

    run.child.kill('SIGTERM');
    expect(await client.closed).toMatchObject({ code: CLOSE_CODES.goingAway });
    expect(client.log.at(-1)).toMatchObject({ t: 'shutdown' });
    expect(await run.exit).toBe(0);
    expect(await logLine(run, 'signaling server stopping')).toMatchObject({ signal: 'SIGTERM' });
    expect(await logLine(run, 'signaling server stopped')).toMatchObject({ connections: 0 });
    expect(run.stderr()).toBe('');
  });

  it('meshsync signal --help prints the usage; a bad flag exits 1 with a clear message', async () => {
    const [help, unknown] = [meshsync('signal', '--help'), meshsync('signal', '--bogus')];
    expect(await help.exit).toBe(0);
    expect(help.stdout()).toMatch(/^Usage: meshsync signal \[options\]/);
    expect(help.stdout()).toContain('--limit NAME=N');
    expect(help.stdout()).toContain('maxConnectionsPerIp=32');
    expect(await unknown.exit).toBe(1);
    expect(unknown.stderr()).toMatch(/^meshsync signal: Unknown option '--bogus'/);
    expect(unknown.stderr()).toContain('Usage: meshsync signal');
    expect(unknown.stdout()).toBe('');
  });

  it('bad flag values are INVALID_OPTION before anything listens', async () => {
    for (const argv of [
      ['--port', 'nope'],
      ['--port', '70000'],
      ['--limit', 'heartbeatMs=0'],
      ['--limit', 'noSuchLimit=5'],
      ['--limit', 'heartbeatMs'],
      ['--log-level', 'loud'],
    ]) {
      expect([argv, await rejectionCode(runSignalCommand(argv, {}))]).toEqual([
        argv,
        'INVALID_OPTION',
      ]);
    }
    // PORT from the environment is checked the same way.
    expect(await rejectionCode(runSignalCommand([], { PORT: 'x' }))).toBe('INVALID_OPTION');
  });
});
