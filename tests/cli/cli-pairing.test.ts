import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CliProcess, eventually, runCli } from '../support/cli.js';

/*
 * The real `meshsync` binary, one child process per command, as a person would use it: init,
 * invite, join on a second data directory, both `start`, data written on one read on the other,
 * then revoke. It starts servers and WebRTC, so it runs only inside the loopback-only namespace
 * (`npm test`, or `/work/shared/tools/isolated npx vitest run tests/cli`).
 */
const isolated = process.env.MESHSYNC_ISOLATED === '1';
const root = mkdtempSync(join(tmpdir(), 'meshsync-cli-'));
const running: CliProcess[] = [];

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop()));
  rmSync(root, { recursive: true, force: true });
});

function spawnKept(args: string[]): CliProcess {
  const p = new CliProcess(args);
  running.push(p);
  return p;
}

async function startPeer(data: string, signal: string): Promise<CliProcess> {
  const peer = spawnKept([
    'start',
    '--data',
    data,
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--signal',
    signal,
  ]);
  await peer.waitFor(/"msg":"started"/, 'stderr');
  return peer;
}

interface Status {
  manager: {
    peers: Array<{ device: string; state: string; transport: string | null; why: string }>;
  };
  refused: Array<{ code: string }>;
}

async function status(data: string): Promise<Status> {
  const r = await runCli(['status', '--json', '--data', data]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Status;
}

describe.skipIf(!isolated)('meshsync: pair two devices from the shell and sync', () => {
  it('init -> invite -> join -> start both -> put on one, get on the other -> revoke', async () => {
    const a = join(root, 'a');
    const b = join(root, 'b');
    const server = spawnKept(['signal', '--port', '0']);
    const [, port] = await server.waitFor(/"port":(\d+)/);
    const signal = `ws://127.0.0.1:${port}/signal`;

    const init = await runCli(['init', '--data', a, '--name', 'laptop']);
    expect(init.code, init.stderr).toBe(0);
    expect(statSync(a).mode & 0o777).toBe(0o700);
    const peerA = await startPeer(a, signal);
    expect(statSync(join(a, 'control.sock')).mode & 0o777).toBe(0o600);

    const invite = await runCli(['invite', '--data', a]);
    expect(invite.code, invite.stderr).toBe(0);
    const connection = /^meshsync:\/\/\S+$/m.exec(invite.stdout)?.[0];
    expect(connection).toBeDefined();

    const joined = await runCli(['join', connection!, '--data', b, '--name', 'phone']);
    expect(joined.code, joined.stderr).toBe(0);
    expect(joined.stdout).toMatch(/Joined: device \w+ \(phone\)/);
    // The invite is single use.
    const again = await runCli(['join', connection!, '--data', join(root, 'c')]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/\[TOKEN_USED\]/);

    const peerB = await startPeer(b, signal);
    const put = await runCli([
      'put',
      'tasks',
      't1',
      '{"title":"Buy milk","done":false}',
      '--data',
      a,
    ]);
    expect(put.code, put.stderr).toBe(0);
    const got = await eventually(async () => {
      const r = await runCli(['get', 'tasks', 't1', '--data', b]);
      return r.code === 0 ? (JSON.parse(r.stdout) as unknown) : undefined;
    }, 'the record on b');
    expect(got).toEqual({ title: 'Buy milk', done: false });

    // The other way, the value from stdin, and a patch.
    const patch = await runCli(['put', 'tasks', 't1', '--patch', '--data', b], {
      input: '{"done":true}',
    });
    expect(patch.code, patch.stderr).toBe(0);
    await eventually(async () => {
      const r = await runCli(['ls', 'tasks', '--data', a]);
      const rows = JSON.parse(r.stdout) as Array<{ id: string; value: { done: boolean } }>;
      return rows[0]?.value.done === true ? rows : undefined;
    }, 'the patch on a');

    const devices = await runCli(['devices', '--json', '--data', a]);
    const members = JSON.parse(devices.stdout) as Array<{
      device: string;
      self: boolean;
      name: string;
    }>;
    expect(members.map((m) => m.name).sort()).toEqual(['laptop', 'phone']);
    const phone = members.find((m) => !m.self)!.device;
    const linked = await status(a);
    expect(linked.manager.peers.find((p) => p.device === phone)?.state).toBe('connected');

    const revoke = await runCli(['revoke', phone, '--data', a]);
    expect(revoke.code, revoke.stderr).toBe(0);
    // The phone keeps trying, and the laptop refuses it.
    await eventually(async () => {
      const s = await status(a);
      return s.refused.some((r) => r.code === 'AUTH_REVOKED') ? true : undefined;
    }, 'a refusal of the revoked device');
    const after = await runCli(['devices', '--json', '--data', a]);
    const revoked = (
      JSON.parse(after.stdout) as Array<{ device: string; revokedAt?: string }>
    ).find((m) => m.device === phone);
    expect(revoked?.revokedAt).toBeDefined();

    expect(await peerB.stop()).toBe(0);
    expect(await peerA.stop()).toBe(0);
    // With no peer running, data commands open the store directly.
    const offline = await runCli(['get', 'tasks', 't1', '--data', a]);
    expect(JSON.parse(offline.stdout)).toEqual({ title: 'Buy milk', done: true });
  }, 180_000); // about 20 commands, each a Node process starting tsx
});
