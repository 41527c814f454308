/** meshsync's signaling server (Node): rooms, presence, relay. */
export {
  createSignalingServer,
  type SignalingServer,
  type SignalingServerOptions,
  type SignalingStats,
} from './server.js';
export { DEFAULT_SIGNALING_LIMITS, resolveLimits, type SignalingLimits } from './limits.js';
export { SignalingMetrics } from './metrics.js';
export { jsonLogger, type LogLevel } from './json-logger.js';
export { runSignalCommand } from './cli.js';
