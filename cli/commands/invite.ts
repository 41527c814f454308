import type { Command } from 'commander';
import { listenerEndpoints } from '../../peer/node/interface-endpoints.js';
import type { Endpoint } from '../../shared/token/endpoint.js';
import { contextOf } from '../context.js';
import { parsePositive, portOption, withDataOptions, type CommonOptions } from '../options.js';
import { printToken } from '../qr-print.js';
import { runOp } from '../run-op.js';

interface InviteOptions extends CommonOptions {
  ttl?: number;
  host?: string;
}

interface InviteResult {
  token: string;
  connectionString: string | null;
}

/** Endpoints for an invite made with no running peer: only when a port is given. */
function offlineEndpoints(options: InviteOptions): Endpoint[] {
  if (options.port === undefined || options.port === 0) return [];
  return listenerEndpoints(options.host ?? '0.0.0.0', options.port, true);
}

export function inviteCommand(program: Command): void {
  withDataOptions(
    program
      .command('invite')
      .description('print a single-use invite for a new device, as a QR code and as text')
      .option('--ttl <minutes>', 'minutes the invite stays valid [default: 15]', parsePositive)
      .addOption(portOption('with no running peer: the port `meshsync start` will listen on'))
      .option('--host <addr>', 'with no running peer: the address it will listen on'),
  ).action(async (options: InviteOptions) => {
    const ctx = contextOf(options);
    const { result, via } = await runOp(
      ctx.dir,
      { op: 'invite', ...(options.ttl !== undefined ? { ttlMs: options.ttl * 60_000 } : {}) },
      ctx.logger,
      () => offlineEndpoints(options),
    );
    if (ctx.json) return ctx.printJson({ ...(result as object), via });
    const invite = result as unknown as InviteResult;
    printToken(ctx, 'Invite token', invite.token);
    if (invite.connectionString) {
      ctx.print('Connection string:');
      ctx.print(invite.connectionString);
    }
    ctx.print('On the other device:');
    ctx.print(`  meshsync join '${invite.connectionString ?? invite.token}'`);
    if (via === 'store') {
      ctx.print('No peer runs on this device: run `meshsync start` so it can take the join.');
    }
  });
}
