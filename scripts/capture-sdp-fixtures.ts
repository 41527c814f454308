/**
 * Captures the real SDP fixtures of tests/fixtures/sdp: complete (non-trickle) data-channel-only
 * offers and answers from werift, @roamhq/wrtc and Chromium, each pair connected on 127.0.0.1
 * (data channel open, one message each way) so every fixture is known to work.
 *
 *   /work/shared/tools/isolated npx tsx scripts/capture-sdp-fixtures.ts
 *
 * It refuses to run outside an isolated network namespace (MESHSYNC_ISOLATED=1). The
 * `chromium-mdns-*` pair needs Chromium to see a non-loopback interface with a default route:
 * the script adds a veth pair (10.255.0.1/2) and a default route inside the namespace, which
 * holds nothing else and so lets no packet out, and removes them afterwards.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasChromium, launchChromiumRtc } from '../tests/support/rtc-chromium.js';
import { withTimeout, type TestRtcPeer } from '../tests/support/rtc-peer.js';
import { createWeriftTestPeer } from '../tests/support/rtc-werift.js';
import { createWrtcTestPeer } from '../tests/support/rtc-wrtc.js';

const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'tests', 'fixtures', 'sdp');
const TIMEOUT_MS = 30_000;

if (process.env.MESHSYNC_ISOLATED !== '1') {
  console.error(
    'Run me inside a fresh namespace: /work/shared/tools/isolated npx tsx ' +
      'scripts/capture-sdp-fixtures.ts',
  );
  process.exit(2);
}

/** Offer, answer, and (unless `connect` is false) an open channel with a message each way. */
async function exchange(
  offerer: TestRtcPeer,
  answerer: TestRtcPeer,
  connect = true,
): Promise<[string, string]> {
  try {
    const offer = await withTimeout(offerer.offer(), TIMEOUT_MS, 'offer');
    const answer = await withTimeout(answerer.answer(offer), TIMEOUT_MS, 'answer');
    await offerer.accept(answer);
    if (connect) {
      const [a, b] = await withTimeout(
        Promise.all([offerer.channel(), answerer.channel()]),
        TIMEOUT_MS,
        'data channel open',
      );
      await a.send('ping');
      await b.send('pong');
      const got = await withTimeout(Promise.all([b.next(), a.next()]), TIMEOUT_MS, 'messages');
      if (got.join() !== 'ping,pong') throw new Error(`unexpected messages ${got.join()}`);
    }
    return [offer, answer];
  } finally {
    await offerer.close();
    await answerer.close();
  }
}

function save(name: string, [offer, answer]: [string, string]): void {
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, `${name}-offer.sdp`), offer);
  writeFileSync(join(OUT, `${name}-answer.sdp`), answer);
  console.log(`${name}: offer ${offer.length} chars, answer ${answer.length} chars`);
}

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });

save('werift', await exchange(createWeriftTestPeer(), createWeriftTestPeer()));
save('wrtc', await exchange(createWrtcTestPeer(), createWrtcTestPeer()));

if (!hasChromium()) {
  console.error('No /usr/bin/chromium (apt-get install -y chromium): Chromium fixtures skipped');
} else {
  const browser = await launchChromiumRtc();
  try {
    save('chromium', await exchange(await browser.newPeer(), await browser.newPeer()));
  } finally {
    await browser.close();
  }
  // Only in a namespace holding nothing but `lo`: the route below must lead nowhere.
  const links = ip('-o', 'link', 'show').trim().split('\n');
  if (links.length !== 1 || !/^\d+: lo:/.test(links[0] ?? '')) {
    console.error('The namespace has interfaces besides lo: mDNS fixtures skipped');
  } else {
    ip('link', 'add', 'msva', 'type', 'veth', 'peer', 'name', 'msvb');
    try {
      ip('addr', 'add', '10.255.0.1/24', 'dev', 'msva');
      ip('addr', 'add', '10.255.0.2/24', 'dev', 'msvb');
      ip('link', 'set', 'msva', 'up');
      ip('link', 'set', 'msvb', 'up');
      ip('route', 'add', 'default', 'via', '10.255.0.2', 'dev', 'msva');
      const hidden = await launchChromiumRtc({ grantMicrophone: false });
      try {
        // Resolving the other page's name would need multicast DNS: only the SDPs are kept.
        save(
          'chromium-mdns',
          await exchange(await hidden.newPeer(), await hidden.newPeer(), false),
        );
      } finally {
        await hidden.close();
      }
    } finally {
      ip('link', 'del', 'msva');
    }
  }
}
