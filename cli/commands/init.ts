import { hostname } from 'node:os';
import type { Command } from 'commander';
import { Mesh } from '../../peer/mesh/mesh.js';
import { CliError } from '../cli-error.js';
import { contextOf } from '../context.js';
import { hasDevice, openPeer, prepareDataDir, readConfig } from '../data-dir.js';
import { withDataOptions, type CommonOptions } from '../options.js';

/** Creates the device (key pair + SQLite store) and a new mesh with it as the only member. */
export async function initDevice(
  options: CommonOptions & { name?: string },
): Promise<{ device: string; name: string; data: string }> {
  const ctx = contextOf(options);
  const existing = hasDevice(ctx.dir);
  const name = options.name ?? (existing ? readConfig(ctx.dir).name : hostname());
  if (!existing) prepareDataDir(ctx.dir, { name });
  const peer = await openPeer(ctx.dir, ctx.logger, { create: true });
  try {
    // A device left with no mesh (a join that failed) may start one; a member may not.
    if (existing && (await Mesh.open(peer))) {
      throw new CliError('ALREADY_INITIALIZED', `a device already exists in ${ctx.dir.root}`);
    }
    if (existing) prepareDataDir(ctx.dir, { name });
    const mesh = await Mesh.create(peer, { name });
    mesh.stop();
    return { device: mesh.device, name, data: ctx.dir.root };
  } finally {
    await peer.stop();
  }
}

export function initCommand(program: Command): void {
  withDataOptions(
    program
      .command('init')
      .description('create this device (key pair, SQLite store) and a new mesh')
      .option('--name <name>', 'this device in the member list [default: the host name]'),
  ).action(async (options: CommonOptions & { name?: string }) => {
    const ctx = contextOf(options);
    const made = await initDevice(options);
    if (ctx.json) return ctx.printJson(made);
    ctx.print(`Created device ${made.device} (${made.name}) and a new mesh in ${made.data}.`);
    ctx.print('Next: `meshsync start`, then `meshsync invite` to add another device.');
  });
}
