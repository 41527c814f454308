#!/usr/bin/env node
import { isMeshsyncError } from '../shared/errors.js';
import { runSignalCommand, SIGNAL_HELP } from './cli.js';

/**
 * The signaling server on its own (`signal` only; tests spawn it). The `meshsync` binary, with
 * every command, is `cli/main.ts`, whose `signal` runs the same `runSignalCommand`.
 */
const USAGE = `Usage: meshsync <command> [options]

Commands:
  signal    run a signaling server (meshsync signal --help)`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE + '\n');
    return command === undefined ? 1 : 0;
  }
  if (command !== 'signal') {
    process.stderr.write(`meshsync: unknown command '${command}'\n\n${USAGE}\n`);
    return 1;
  }
  try {
    await runSignalCommand(rest);
    return 0;
  } catch (err) {
    const text = isMeshsyncError(err) || err instanceof Error ? err.message : String(err);
    process.stderr.write(`meshsync signal: ${text}\n\n${SIGNAL_HELP}\n`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
if (code !== 0) process.exit(code);
