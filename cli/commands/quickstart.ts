import type { Command } from 'commander';
import { createSignalingServer, type SignalingServer } from '../../signaling/server.js';
import { contextOf, type CliContext } from '../context.js';
import { hasDevice } from '../data-dir.js';
import { LiveView } from '../live-view.js';
import { loggerPort } from '../logging.js';
import { DEFAULT_PORT, DEFAULT_SIGNAL_PORT, parsePort, withDataOptions } from '../options.js';
import { printToken } from '../qr-print.js';
import { initDevice } from './init.js';
import { runPeer, stopOnSignal, withPeerOptions, type StartOptions } from './start.js';

interface QuickstartOptions extends StartOptions {
  signalPort?: number;
  signalHost?: string;
  name?: string;
}

async function signalingServer(
  ctx: CliContext,
  options: QuickstartOptions,
): Promise<SignalingServer> {
  return createSignalingServer({
    port: options.signalPort ?? DEFAULT_SIGNAL_PORT,
    host: options.signalHost ?? '127.0.0.1',
    logger: loggerPort(ctx.log.child({ component: 'signaling' })),
  });
}

/**
 * `npm start`: the whole thing on one machine with defaults: a signaling server (loopback,
 * port 8787), this device (initialised on first run) listening on 8788, and an invite with the
 * command that adds a second device.
 */
export function quickstartCommand(program: Command): void {
  withPeerOptions(
    withDataOptions(
      program
        .command('quickstart')
        .description('`npm start`: a signaling server and this device, plus how to add another')
        .option('--name <name>', 'this device, on first run [default: the host name]')
        .option(
          '--signal-port <n>',
          `the embedded signaling server's port [default: ${DEFAULT_SIGNAL_PORT}]`,
          parsePort,
        )
        .option('--signal-host <addr>', 'its address [default: 127.0.0.1]'),
    ),
  ).action(async (options: QuickstartOptions) => {
    const live = options.live !== false && process.stdout.isTTY === true;
    const ctx = contextOf(options, live ? 'warn' : 'info');
    if (!hasDevice(ctx.dir)) {
      const made = await initDevice(options);
      ctx.print(`Created device ${made.device} (${made.name}) in ${made.data}.`);
    }
    const server = options.signal ? null : await signalingServer(ctx, options);
    const signal = options.signal ?? server!.url;
    try {
      const runtime = await runPeer(ctx, { ...options, signal });
      const invite = (await runtime.perform({ op: 'invite' })) as {
        token: string;
        connectionString: string | null;
      };
      printToken(ctx, 'Invite token (single use, 15 minutes)', invite.token);
      const port = (options.port ?? DEFAULT_PORT) + 1;
      ctx.print('\nTo add a second device (here with a second data directory on this machine):');
      ctx.print(
        `  meshsync join '${invite.connectionString ?? invite.token}' --data ~/.meshsync-2`,
      );
      ctx.print(`  meshsync start --data ~/.meshsync-2 --port ${port} --signal ${signal}`);
      ctx.print(`Signaling: ${signal}. Ctrl-C stops.\n`);
      const view = live ? new LiveView(runtime) : null;
      await stopOnSignal(ctx, [() => view?.stop(), () => runtime.stop(), () => server?.close()]);
    } catch (err) {
      await server?.close();
      throw err;
    }
  });
}
