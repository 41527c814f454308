import type { Command } from 'commander';
import { contextOf, type CliContext } from '../context.js';
import { LiveView } from '../live-view.js';
import {
  DEFAULT_PORT,
  portOption,
  signalOption,
  withDataOptions,
  type CommonOptions,
} from '../options.js';
import { PeerRuntime } from '../peer-runtime.js';
import { parseRtcChoice, type RtcChoice } from '../rtc-choice.js';
import { iceServerOption } from '../ice-servers.js';
import type { RtcIceServer } from '../../peer/rtc/rtc-port.js';

export interface StartOptions extends CommonOptions {
  host?: string;
  rtc?: RtcChoice;
  iceLoopback?: boolean;
  iceServer?: RtcIceServer[];
  mdns?: boolean;
  live?: boolean;
}

/** Adds the flags of a running peer (shared by `start` and `quickstart`). */
export function withPeerOptions(command: Command): Command {
  return command
    .addOption(signalOption())
    .addOption(portOption(`direct listener port, 0 for any [default: ${DEFAULT_PORT}]`))
    .option('--host <addr>', 'direct listener address [default: 0.0.0.0]')
    .option('--rtc <impl>', 'WebRTC: werift, wrtc or none [default: werift]', parseRtcChoice)
    .option('--ice-loopback', 'WebRTC over 127.0.0.1 only (devices on one machine, tests)')
    .addOption(iceServerOption())
    .option('--mdns', 'find members on the LAN with mDNS (multicast DNS)')
    .option('--no-live', 'no live status on a terminal, logs only');
}

/** Runs the peer until SIGINT or SIGTERM; resolves once it stopped. */
export async function runPeer(ctx: CliContext, options: StartOptions): Promise<PeerRuntime> {
  const runtime = await PeerRuntime.start({
    dir: ctx.dir,
    logger: ctx.logger,
    ...(options.signal ? { signal: options.signal } : {}),
    host: options.host ?? '0.0.0.0',
    port: options.port ?? DEFAULT_PORT,
    rtc: options.rtc ?? 'werift',
    iceLoopback: options.iceLoopback === true,
    iceServers: options.iceServer ?? [],
    mdns: options.mdns === true,
  });
  const status = runtime.status();
  ctx.log.info(
    { device: status.device, ...runtime.address, control: ctx.dir.socket, signal: options.signal },
    'started',
  );
  return runtime;
}

/** Waits for SIGINT or SIGTERM, then stops `runtime` (and `also`) gracefully. */
export function stopOnSignal(
  ctx: CliContext,
  stops: Array<() => Promise<void> | void>,
): Promise<void> {
  return new Promise((resolve) => {
    const stop = (signal: string): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      ctx.log.info({ signal }, 'stopping');
      void (async () => {
        for (const s of stops) await s();
        ctx.log.info('stopped');
        resolve();
      })();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export function startCommand(program: Command): void {
  withPeerOptions(
    withDataOptions(
      program
        .command('start')
        .description('run this device: listener, signaling, WebRTC, sync, until SIGINT/SIGTERM'),
    ),
  ).action(async (options: StartOptions) => {
    const live = options.live !== false && process.stdout.isTTY === true && !options.json;
    const ctx = contextOf(options, live ? 'warn' : 'info');
    const runtime = await runPeer(ctx, options);
    const view = live ? new LiveView(runtime) : null;
    await stopOnSignal(ctx, [() => view?.stop(), () => runtime.stop()]);
  });
}
