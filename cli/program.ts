import { Command } from 'commander';
import { answerCommand } from './commands/answer.js';
import { dataCommands } from './commands/data.js';
import { deviceCommands } from './commands/devices.js';
import { initCommand } from './commands/init.js';
import { inviteCommand } from './commands/invite.js';
import { joinCommand } from './commands/join.js';
import { offerCommand } from './commands/offer.js';
import { quickstartCommand } from './commands/quickstart.js';
import { signalCommand } from './commands/signal.js';
import { startCommand } from './commands/start.js';
import { statusCommand } from './commands/status.js';

/** The `meshsync` command line. `keepAlive` is called by commands that outlive their action. */
export function buildProgram(keepAlive: () => void): Command {
  const program = new Command('meshsync')
    .description('local-first data sync between your devices, peer to peer')
    .showHelpAfterError('(meshsync <command> --help for its flags)')
    .enablePositionalOptions()
    // Settings are inherited by the commands added below: throw instead of exiting.
    .exitOverride();
  initCommand(program);
  inviteCommand(program);
  joinCommand(program);
  offerCommand(program);
  answerCommand(program);
  startCommand(program);
  statusCommand(program);
  dataCommands(program);
  deviceCommands(program);
  quickstartCommand(program);
  signalCommand(program, keepAlive);
  return program;
}
