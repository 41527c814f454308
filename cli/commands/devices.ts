import type { Command } from 'commander';
import { contextOf } from '../context.js';
import { withDataOptions, type CommonOptions } from '../options.js';
import { runOp } from '../run-op.js';

interface DeviceRow {
  device: string;
  name: string;
  self: boolean;
  addedAt: string;
  revokedAt?: string;
}

/** `devices` lists the mesh's members; `revoke <id>` refuses one from now on, everywhere. */
export function deviceCommands(program: Command): void {
  withDataOptions(
    program.command('devices').description('list the paired devices of this mesh'),
  ).action(async (options: CommonOptions) => {
    const ctx = contextOf(options);
    const { result } = await runOp(ctx.dir, { op: 'devices' }, ctx.logger);
    if (ctx.json) return ctx.printJson(result);
    for (const d of result as unknown as DeviceRow[]) {
      const state = d.revokedAt ? `revoked ${d.revokedAt}` : `added ${d.addedAt}`;
      ctx.print(
        `${d.device}  ${(d.name || '-').padEnd(16)}  ${state}${d.self ? '  (this device)' : ''}`,
      );
    }
  });

  withDataOptions(
    program
      .command('revoke')
      .description('revoke a paired device: its sessions close and every member refuses it')
      .argument('<device>', 'device id (see `meshsync devices`)'),
  ).action(async (device: string, options: CommonOptions) => {
    const ctx = contextOf(options);
    const { result, via } = await runOp(ctx.dir, { op: 'revoke', device }, ctx.logger);
    if (ctx.json) return ctx.printJson({ ...(result as object), via });
    ctx.print(`Revoked ${device}.`);
    if (via === 'store') ctx.print('Other members learn it at the next `meshsync start`.');
  });
}
