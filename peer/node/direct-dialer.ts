import { WebSocket } from 'ws';
import { LIMITS } from '../../shared/limits.js';
import { createDirectDialer, type DirectDialer } from '../transport/direct-dialer.js';

/** Node's direct dialer: `ws` (frames up to the protocol's limit, no compression) and the global fetch. */
export const nodeDirectDialer: DirectDialer = createDirectDialer({
  webSocket: (url) =>
    new WebSocket(url, { maxPayload: LIMITS.maxFrameBytes, perMessageDeflate: false }),
  fetch: (url, init) => globalThis.fetch(url, init),
});
