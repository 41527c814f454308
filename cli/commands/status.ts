import type { Command } from 'commander';
import { CliError } from '../cli-error.js';
import { contextOf } from '../context.js';
import { controlRequest, NOT_RUNNING } from '../control-client.js';
import { withDataOptions, type CommonOptions } from '../options.js';
import { formatStatus, type RunningStatus } from '../running-status.js';

export function statusCommand(program: Command): void {
  withDataOptions(
    program
      .command('status')
      .description('print the status of the peer `meshsync start` runs on this data directory'),
  ).action(async (options: CommonOptions) => {
    const ctx = contextOf(options);
    const status = await controlRequest(ctx.dir.socket, { op: 'status' });
    if (status === NOT_RUNNING) {
      throw new CliError('NOT_RUNNING', `no peer is running on ${ctx.dir.root} (meshsync start)`);
    }
    if (ctx.json) return ctx.printJson(status);
    ctx.print(formatStatus(status as unknown as RunningStatus).join('\n'));
  });
}
