import type { Command } from 'commander';
import { decodeAnswerToken } from '../../shared/token/offer-token.js';
import { contextOf } from '../context.js';
import { openDevice } from '../data-dir.js';
import { ManualRtc } from '../manual-rtc.js';
import { parsePositive, withDataOptions, type CommonOptions } from '../options.js';
import { printToken } from '../qr-print.js';
import { manualRtcPort, parseRtcChoice, type RtcChoice } from '../rtc-choice.js';
import { readPastedLine, refuseWhileRunning, syncOnce } from './pairing-shared.js';
import { iceServerOption } from '../ice-servers.js';
import type { RtcIceServer } from '../../peer/rtc/rtc-port.js';

export interface ManualOptions extends CommonOptions {
  rtc?: RtcChoice;
  iceLoopback?: boolean;
  iceServer?: RtcIceServer[];
  timeout?: number;
}

/** The WebRTC flags of `offer` and `answer`. */
export function withManualOptions(command: Command): Command {
  return command
    .option('--rtc <impl>', 'WebRTC: werift or wrtc [default: werift]', parseRtcChoice)
    .option('--ice-loopback', 'WebRTC over 127.0.0.1 only (devices on one machine, tests)')
    .addOption(iceServerOption())
    .option(
      '--timeout <seconds>',
      'to connect once the answer is in, and to sync [default: 60]',
      parsePositive,
    );
}

export function offerCommand(program: Command): void {
  withManualOptions(
    withDataOptions(
      program
        .command('offer')
        .description(
          'pair by hand with no server: print an offer token, then read the answer on stdin',
        )
        .option('--ttl <minutes>', 'minutes the offer stays valid [default: 15]', parsePositive),
    ),
  ).action(async (options: ManualOptions & { ttl?: number }) => {
    const ctx = contextOf(options);
    await refuseWhileRunning(ctx);
    const port = await manualRtcPort(options.rtc ?? 'werift', options.iceLoopback === true);
    const device = await openDevice(ctx.dir, ctx.logger);
    const rtc = new ManualRtc(port, options.iceServer ?? []);
    try {
      const timeoutMs = (options.timeout ?? 60) * 1000;
      const offer = await device.mesh.offerToken(await rtc.offer(), {
        ...(options.ttl !== undefined ? { ttlMs: options.ttl * 60_000 } : {}),
      });
      if (ctx.json) ctx.print(JSON.stringify({ offer: offer.token }));
      else {
        printToken(ctx, 'Offer token', offer.token);
        ctx.print('On the other device: meshsync answer <offer token>');
      }
      const pasted = await readPastedLine('Paste the answer token here, then Enter:\n');
      const answer = decodeAnswerToken(pasted, offer.secret);
      await rtc.accept(answer.sdp);
      const session = await device.mesh.connect(await rtc.transport(timeoutMs));
      await syncOnce(ctx, session, timeoutMs);
    } finally {
      rtc.close();
      await device.close();
    }
  });
}
