import type { Page } from 'playwright-core';
import { launchChromiumPage } from './chromium.js';
import type { TestChannel, TestRtcPeer } from './rtc-peer.js';

export { CHROMIUM_ARGS, CHROMIUM_PATH, hasChromium } from './chromium.js';

/** The page's side: RTCPeerConnections by id, driven with `page.evaluate` on plain strings. */
const PAGE_SCRIPT = `
const peers = new Map();
const gathered = (pc) => new Promise((resolve) => {
  if (pc.iceGatheringState === 'complete') return resolve();
  pc.addEventListener('icegatheringstatechange', () => {
    if (pc.iceGatheringState === 'complete') resolve();
  });
});
const wrap = (entry, dc) => {
  entry.dc = dc;
  entry.open = new Promise((resolve) => {
    if (dc.readyState === 'open') resolve();
    else dc.addEventListener('open', () => resolve());
  });
  dc.addEventListener('message', (event) => {
    const waiter = entry.waiting.shift();
    if (waiter) waiter(String(event.data));
    else entry.queued.push(String(event.data));
  });
};
window.rtc = {
  create(id) {
    const pc = new RTCPeerConnection();
    const entry = { pc, queued: [], waiting: [] };
    entry.remote = new Promise((resolve) => pc.addEventListener('datachannel', (event) => {
      wrap(entry, event.channel);
      resolve();
    }));
    peers.set(id, entry);
  },
  async offer(id) {
    const entry = peers.get(id);
    wrap(entry, entry.pc.createDataChannel('meshsync'));
    await entry.pc.setLocalDescription();
    await gathered(entry.pc);
    return entry.pc.localDescription.sdp;
  },
  async answer(id, sdp) {
    const { pc } = peers.get(id);
    await pc.setRemoteDescription({ type: 'offer', sdp });
    await pc.setLocalDescription();
    await gathered(pc);
    return pc.localDescription.sdp;
  },
  async accept(id, sdp) {
    await peers.get(id).pc.setRemoteDescription({ type: 'answer', sdp });
  },
  async channel(id) {
    const entry = peers.get(id);
    if (!entry.dc) await entry.remote;
    await entry.open;
  },
  send(id, text) { peers.get(id).dc.send(text); },
  next(id) {
    const entry = peers.get(id);
    if (entry.queued.length > 0) return entry.queued.shift();
    return new Promise((resolve) => entry.waiting.push(resolve));
  },
  close(id) {
    peers.get(id)?.pc.close();
    peers.delete(id);
  },
};`;

export interface ChromiumRtc {
  /** A new RTCPeerConnection in the page (default configuration: no ICE servers). */
  newPeer(): Promise<TestRtcPeer>;
  /** Closes the browser, the page's HTTP server and the profile directory. */
  close(): Promise<void>;
}

/**
 * Starts Chromium on a page served from a loopback HTTP server. With `grantMicrophone` (the
 * default) the page may use raw host addresses in its candidates; without it, Chromium hides
 * them behind `<uuid>.local` mDNS names.
 */
export async function launchChromiumRtc(
  options: { grantMicrophone?: boolean } = {},
): Promise<ChromiumRtc> {
  const html = `<!doctype html><meta charset="utf-8"><title>rtc</title><script>${PAGE_SCRIPT}</script>`;
  const chromium = await launchChromiumPage(
    { '/': html },
    { grantMicrophone: options.grantMicrophone ?? true },
  );
  let next = 0;
  return { newPeer: () => pagePeer(chromium.page, `p${next++}`), close: () => chromium.close() };
}

async function pagePeer(page: Page, id: string): Promise<TestRtcPeer> {
  const call = <T>(method: string, ...args: string[]): Promise<T> =>
    page.evaluate(`window.rtc.${method}(${[id, ...args].map((a) => JSON.stringify(a)).join()})`);
  await call('create');
  const channel: TestChannel = {
    send: (text) => call<void>('send', text),
    next: () => call<string>('next'),
  };
  return {
    stack: 'chromium',
    offer: () => call<string>('offer'),
    answer: (sdp) => call<string>('answer', sdp),
    accept: (sdp) => call<void>('accept', sdp),
    channel: async () => {
      await call('channel');
      return channel;
    },
    close: () => call<void>('close'),
  };
}
