import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeQrRgba } from '../../shared/qr/index.js';
import { CLI_ENTRY, runCli } from '../support/cli.js';

/*
 * `meshsync invite` on a real terminal (a tmux pane): the QR code it draws is read back off the
 * screen, its half-block characters turned into modules and pixels, and decoded with jsQR; it
 * must give back the token printed under it. No network: the invite is made on the store.
 */
const TMUX = '/usr/bin/tmux';
const root = mkdtempSync(join(tmpdir(), 'meshsync-qr-'));
const session = `meshsync-qr-${process.pid}`;

afterAll(() => {
  spawnSync(TMUX, ['kill-session', '-t', session]);
  rmSync(root, { recursive: true, force: true });
});

/** Half blocks back to module rows: each character is two modules, top and bottom. */
function screenToPixels(
  lines: string[],
  scale = 4,
): { data: Uint8ClampedArray; w: number; h: number } {
  const width = Math.max(...lines.map((l) => [...l].length));
  const rows: boolean[][] = [];
  for (const line of lines) {
    const chars = [...line.padEnd(width, ' ')];
    rows.push(chars.map((c) => c === '█' || c === '▀'));
    rows.push(chars.map((c) => c === '█' || c === '▄'));
  }
  // A light border around it, as paper would have.
  const pad = 4;
  const w = (width + 2 * pad) * scale;
  const h = (rows.length + 2 * pad) * scale;
  const data = new Uint8ClampedArray(w * h * 4).fill(255);
  rows.forEach((row, r) =>
    row.forEach((dark, c) => {
      if (!dark) return;
      for (let y = 0; y < scale; y++) {
        for (let x = 0; x < scale; x++) {
          const i = (((r + pad) * scale + y) * w + (c + pad) * scale + x) * 4;
          data[i] = data[i + 1] = data[i + 2] = 0;
        }
      }
    }),
  );
  return { data, w, h };
}

// CI installs tmux (.ci/run) and sets MESHSYNC_REQUIRE_TMUX, so there a missing tmux fails
// instead of skipping.
if (process.env.MESHSYNC_REQUIRE_TMUX === '1' && !existsSync(TMUX)) {
  it('tmux is installed (MESHSYNC_REQUIRE_TMUX)', () => {
    throw new Error('no /usr/bin/tmux: apt-get install tmux');
  });
}

describe.skipIf(!existsSync(TMUX))('meshsync invite on a terminal', () => {
  it('draws a QR code that decodes back to the printed token', async () => {
    const data = join(root, 'a');
    expect((await runCli(['init', '--data', data])).code).toBe(0);
    const done = join(root, 'done');
    const command = `${process.execPath} --import tsx ${CLI_ENTRY} invite --data ${data}; touch ${done}; sleep 60`;
    const started = spawnSync(TMUX, [
      '-u',
      'new-session',
      '-d',
      '-s',
      session,
      '-x',
      '240',
      '-y',
      '80',
      '-c',
      process.cwd(),
      command,
    ]);
    expect(started.status, started.stderr.toString()).toBe(0);
    for (let i = 0; i < 200 && !existsSync(done); i++) await new Promise((r) => setTimeout(r, 100));
    const pane = spawnSync(TMUX, [
      '-u',
      'capture-pane',
      '-p',
      '-J',
      '-t',
      session,
    ]).stdout.toString();
    const lines = pane.split('\n');
    const qr = lines.filter((l) => /[█▀▄]/.test(l) && /^[ █▀▄]+$/.test(l.trimEnd()));
    expect(qr.length).toBeGreaterThan(10);
    const token = lines[lines.findIndex((l) => l.startsWith('Invite token:')) + 1]?.trim();
    expect(token).toMatch(/^[A-Z2-7]{100,}$/);
    const { data: pixels, w, h } = screenToPixels(qr);
    expect(decodeQrRgba(pixels, w, h)).toBe(token);
  });
});
