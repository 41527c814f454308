import { createDirectDialer, type DirectDialer } from '../transport/direct-dialer.js';

/** The browser's direct dialer: its own WebSocket and fetch (frames are checked on arrival). */
export const browserDirectDialer: DirectDialer = createDirectDialer({
  webSocket: (url) => new WebSocket(url),
  fetch: (url, init) => fetch(url, init),
});
