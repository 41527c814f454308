#!/usr/bin/env node
import { CommanderError } from 'commander';
import { describeError, exitCodeOf } from './cli-error.js';
import { buildProgram } from './program.js';

/**
 * The `meshsync` binary. A failure prints `meshsync: <message> [CODE]` on stderr and exits
 * non-zero: 2 for bad flags or arguments, 1 for anything else. A finished command exits at once
 * (WebRTC stacks may hold the event loop); `signal` and `start` run until stopped.
 */
let keepAlive = false;
const program = buildProgram(() => {
  keepAlive = true;
});

try {
  await program.parseAsync(process.argv);
  if (!keepAlive) process.exit(0);
} catch (err) {
  if (err instanceof CommanderError) {
    // commander printed the problem (or the help) already.
    process.exit(err.exitCode === 0 ? 0 : 2);
  }
  const nodeCode = (err as { code?: unknown }).code;
  const { code, message } =
    typeof nodeCode === 'string' && nodeCode.startsWith('ERR_PARSE_ARGS')
      ? { code: 'USAGE', message: (err as Error).message }
      : describeError(err);
  process.stderr.write(`meshsync: ${message} [${code}]\n`);
  process.exit(exitCodeOf(code));
}
