import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CliProcess, eventually, runCli } from '../support/cli.js';

/*
 * `npm start` (`meshsync quickstart`) as a new user runs it, on its default ports: it makes the
 * device, starts a signaling server and the peer, and prints the commands that add a second
 * device; those commands, pasted as printed (with the data directory swapped for a temporary
 * one), pair a second device that then syncs (WebRTC finds no candidate on a loopback-only host,
 * so over the direct WebSocket after the connect timeout). It binds fixed ports, so it runs only
 * inside the loopback-only namespace (`npm test`).
 */
const isolated = process.env.MESHSYNC_ISOLATED === '1';
const root = mkdtempSync(join(tmpdir(), 'meshsync-quick-'));
const running: CliProcess[] = [];

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop()));
  rmSync(root, { recursive: true, force: true });
});

/** The printed command's arguments (single-quoted tokens kept whole), `~/.meshsync-2` swapped. */
function argsOf(line: string, data: string): string[] {
  const words = line.trim().match(/'[^']*'|\S+/g) ?? [];
  return words
    .slice(1) // "meshsync"
    .map((w) => (w.startsWith("'") ? w.slice(1, -1) : w))
    .map((w) => (w === '~/.meshsync-2' ? data : w));
}

describe.skipIf(!isolated)('npm start (meshsync quickstart)', () => {
  it('starts a signaling server and this device, and its printed commands add a second', async () => {
    const first = join(root, 'first');
    const second = join(root, 'second');
    // On loopback only, as this namespace has nothing else: the listener's one reachable address.
    const quick = new CliProcess(['quickstart', '--data', first, '--host', '127.0.0.1']);
    running.push(quick);
    const [joinLine] = await quick.waitFor(/^ {2}meshsync join .*$/m);
    const [startLine] = await quick.waitFor(/^ {2}meshsync start .*$/m);
    expect(quick.stdout).toMatch(/Created device [a-z2-7]{16}/);
    await quick.waitFor(/Signaling: ws:\/\/127\.0\.0\.1:8787/);

    const joined = await runCli(argsOf(joinLine, second));
    expect(joined.code, joined.stderr).toBe(0);
    const peer = new CliProcess(argsOf(startLine, second));
    running.push(peer);
    await runCli(['put', 'notes', 'n1', '{"text":"from the first device"}', '--data', first]);
    const got = await eventually(
      async () => {
        const r = await runCli(['get', 'notes', 'n1', '--data', second]);
        return r.code === 0 && r.stdout.includes('from the first device') ? r.stdout : undefined;
      },
      'the record on the second device',
      60_000,
    );
    expect(JSON.parse(got)).toEqual({ text: 'from the first device' });

    expect(await peer.stop()).toBe(0);
    expect(await quick.stop()).toBe(0);
  }, 120_000);
});
