import type { Command } from 'commander';
import { runSignalCommand } from '../../signaling/cli.js';

/**
 * `meshsync signal`: the signaling server, with its own flags and help (`signaling/cli.ts`).
 * It keeps running after the action returns; `keepAlive` tells the entry not to exit.
 */
export function signalCommand(program: Command, keepAlive: () => void): void {
  program
    .command('signal')
    .description('run a signaling server (flags: meshsync signal --help)')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (_options: unknown, command: Command) => {
      keepAlive();
      await runSignalCommand(command.args);
    });
}
