import { createInterface } from 'node:readline';
import type { SyncSession } from '../../peer/sync/session.js';
import { CliError } from '../cli-error.js';
import type { CliContext } from '../context.js';
import { probeControl } from '../control-client.js';

/** offer and answer hold the store themselves: a running peer would not see their sync. */
export async function refuseWhileRunning(ctx: CliContext): Promise<void> {
  if (await probeControl(ctx.dir.socket)) {
    throw new CliError(
      'ALREADY_RUNNING',
      `a peer is running on ${ctx.dir.root}: stop \`meshsync start\` before pairing by hand`,
    );
  }
}

/** The first non-empty line on stdin (a pasted token), without spaces or dashes. */
export async function readPastedLine(prompt: string): Promise<string> {
  process.stderr.write(prompt);
  const lines = createInterface({ input: process.stdin, terminal: false });
  try {
    for await (const line of lines) {
      const text = line.replace(/[\s-]/g, '');
      if (text) return text;
    }
  } finally {
    lines.close();
  }
  throw new CliError('USAGE', 'stdin ended before a token was pasted');
}

/** Syncs both ways over a fresh session, reports it, and closes it. */
export async function syncOnce(
  ctx: CliContext,
  session: SyncSession,
  timeoutMs: number,
): Promise<void> {
  await session.whenReady();
  const { pull, push } = await session.sync({ signal: AbortSignal.timeout(timeoutMs) });
  const result = {
    device: session.remoteDevice,
    transport: 'webrtc',
    received: pull.rows,
    sent: push.rows,
  };
  session.close('paired');
  if (ctx.json) return ctx.printJson(result);
  ctx.print(
    `Connected to ${result.device} over WebRTC: received ${result.received} and sent ${result.sent} changes.`,
  );
}
