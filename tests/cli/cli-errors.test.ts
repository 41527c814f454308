import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

/*
 * Bad flags and bad input: a clear message on stderr ending in a stable code, and a non-zero
 * exit (2 for usage, 1 for the rest). None of these touch the network.
 */
const root = mkdtempSync(join(tmpdir(), 'meshsync-errors-'));
const device = join(root, 'a');

beforeAll(async () => {
  expect((await runCli(['init', '--data', device, '--name', 'a'])).code).toBe(0);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const cases: Array<{ args: string[]; exit: number; stderr: RegExp; input?: string }> = [
  { args: ['bogus'], exit: 2, stderr: /unknown command 'bogus'/ },
  { args: ['start', '--port', 'abc'], exit: 2, stderr: /--port .* expected a port number/ },
  {
    args: ['start', '--signal', 'http://x'],
    exit: 2,
    stderr: /expected a ws:\/\/ or wss:\/\/ URL/,
  },
  { args: ['start', '--rtc', 'carrier-pigeon'], exit: 2, stderr: /expected werift, wrtc or none/ },
  { args: ['get', 'tasks'], exit: 2, stderr: /missing required argument 'id'/ },
  {
    args: ['put', 'tasks', 't1', 'not json', '--data', device],
    exit: 2,
    stderr: /not valid JSON \[USAGE\]/,
  },
  { args: ['put', 'tasks', 't1', '[1,2]', '--data', device], exit: 1, stderr: /\[INVALID_VALUE\]/ },
  { args: ['put', 'bad name!', 't1', '{}', '--data', device], exit: 1, stderr: /\[INVALID_ID\]/ },
  { args: ['get', 'tasks', 'nope', '--data', device], exit: 1, stderr: /\[NOT_FOUND\]/ },
  { args: ['rm', 'tasks', 'nope', '--data', device], exit: 1, stderr: /\[NOT_FOUND\]/ },
  { args: ['ls', 'tasks', '--limit', '0', '--data', device], exit: 2, stderr: /--limit/ },
  { args: ['init', '--data', device], exit: 1, stderr: /\[ALREADY_INITIALIZED\]/ },
  { args: ['status', '--data', device], exit: 1, stderr: /\[NOT_RUNNING\]/ },
  { args: ['revoke', 'aaaaaaaaaaaaaaaa', '--data', device], exit: 1, stderr: /\[NOT_FOUND\]/ },
  {
    args: ['get', 'tasks', 't1', '--data', join(root, 'none')],
    exit: 1,
    stderr: /\[NOT_INITIALIZED\]/,
  },
  { args: ['join', 'NOT-A-TOKEN', '--data', join(root, 'j')], exit: 1, stderr: /\[BAD_TOKEN\]/ },
  {
    args: ['join', 'meshsync://h:1?id=x', '--data', join(root, 'j')],
    exit: 1,
    stderr: /\[BAD_TOKEN\]/,
  },
  { args: ['answer', 'AAAA', '--data', join(root, 'k')], exit: 1, stderr: /\[BAD_TOKEN\]/ },
  { args: ['invite', '--ttl', '-5', '--data', device], exit: 2, stderr: /--ttl/ },
  { args: ['signal', '--bogus'], exit: 2, stderr: /\[USAGE\]/ },
  { args: ['signal', '--port', 'x'], exit: 2, stderr: /\[INVALID_OPTION\]/ },
];

describe.concurrent('meshsync: bad flags and input', () => {
  for (const c of cases) {
    it(`${c.args.filter((a) => !a.startsWith(root)).join(' ')} -> exit ${c.exit}`, async () => {
      const r = await runCli(c.args, c.input !== undefined ? { input: c.input } : {});
      expect(r.stderr).toMatch(c.stderr);
      expect(r.code).toBe(c.exit);
    });
  }

  it('every command has --help, and exits 0 with it', async () => {
    const commands = [
      'init',
      'invite',
      'join',
      'offer',
      'answer',
      'start',
      'status',
      'put',
      'get',
    ].concat(['ls', 'rm', 'devices', 'revoke', 'quickstart', 'signal']);
    const results = await Promise.all(commands.map((c) => runCli([c, '--help'])));
    results.forEach((r, i) => {
      expect(r.code, commands[i]).toBe(0);
      expect(r.stdout).toMatch(/Usage: meshsync/);
    });
  });
});
