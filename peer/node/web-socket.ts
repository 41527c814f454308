import { WebSocket } from 'ws';
import type { WebSocketFactory } from '../signaling/socket-port.js';

/** The `ws` package's client as the signaling client's WebSocket. */
export const nodeWebSocket: WebSocketFactory = (url) =>
  // Server messages are small (signals, relay chunks): refuse anything absurd.
  new WebSocket(url, { maxPayload: 1024 * 1024 });
