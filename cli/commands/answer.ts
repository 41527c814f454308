import type { Command } from 'commander';
import { peerIdentity } from '../../peer/mesh/identity.js';
import { Mesh } from '../../peer/mesh/mesh.js';
import { decodeOfferToken, encodeAnswerToken } from '../../shared/token/offer-token.js';
import { contextOf } from '../context.js';
import { readConfig } from '../data-dir.js';
import { ManualRtc } from '../manual-rtc.js';
import { withDataOptions } from '../options.js';
import { printToken } from '../qr-print.js';
import { manualRtcPort } from '../rtc-choice.js';
import { ensurePeer } from './join.js';
import { withManualOptions, type ManualOptions } from './offer.js';
import { refuseWhileRunning, syncOnce } from './pairing-shared.js';

export function answerCommand(program: Command): void {
  withManualOptions(
    withDataOptions(
      program
        .command('answer')
        .description('answer an offer token: print the answer token, connect over WebRTC, sync')
        .argument('<offer-token>')
        .option(
          '--name <name>',
          'this device in the member list, if it joins [default: host name]',
        ),
    ),
  ).action(async (text: string, options: ManualOptions & { name?: string }) => {
    const ctx = contextOf(options);
    await refuseWhileRunning(ctx);
    const token = text.replace(/[\s-]/g, '');
    const offer = decodeOfferToken(token);
    const port = await manualRtcPort(options.rtc ?? 'werift', options.iceLoopback === true);
    const peer = await ensurePeer(ctx, options.name);
    const name = options.name ?? readConfig(ctx.dir).name;
    const mesh = await Mesh.open(peer, { name });
    const rtc = new ManualRtc(port, options.iceServer ?? []);
    try {
      const timeoutMs = (options.timeout ?? 60) * 1000;
      const sdp = await rtc.answer(offer.sdp);
      const identity = mesh?.identity ?? (await peerIdentity(peer));
      const answer = encodeAnswerToken(
        { offerSecret: offer.secret, expiresAt: offer.expiresAt, sdp },
        identity,
      );
      if (ctx.json) ctx.print(JSON.stringify({ answer }));
      else {
        printToken(ctx, 'Answer token', answer);
        ctx.print('Paste it into the waiting `meshsync offer`.');
      }
      // The person pasting takes a while: wait longer for the channel than for the sync.
      const transport = await rtc.transport(timeoutMs + 10 * 60_000);
      const session = mesh
        ? await mesh.connect(transport)
        : (await Mesh.join(peer, token, transport, { name })).session;
      await syncOnce(ctx, session, timeoutMs);
    } finally {
      rtc.close();
      mesh?.stop();
      await peer.stop();
    }
  });
}
