import type { WebSocketFactory } from '../signaling/socket-port.js';

/** The browser's own WebSocket as the signaling client's WebSocket. */
export const browserWebSocket: WebSocketFactory = (url) => new WebSocket(url);
