import { checkEndpoint, type Endpoint } from '../token/endpoint.js';

/** Where a direct endpoint serves what (PROTOCOL.md section 23). */
export const DIRECT_PATHS = {
  /** The WebSocket sync endpoint (GET with an upgrade). */
  webSocket: '/meshsync/v1/ws',
  /** POST: opens an HTTP tunnel. */
  tunnel: '/meshsync/v1/tunnel',
} as const;

/** POST paths of one tunnel. */
export type TunnelAction = 'send' | 'poll';

/** A tunnel id: 16 random bytes in base64url (22 characters). */
export const TUNNEL_ID = /^[A-Za-z0-9_-]{21}[AQgw]$/;

export function tunnelPath(tunnel: string, action: TunnelAction): string {
  return `${DIRECT_PATHS.tunnel}/${tunnel}/${action}`;
}

/**
 * The base URL of an endpoint for `scheme` (`ws` or `http`; `s` is added for TLS). IPv6
 * addresses go in brackets. Throws INVALID_VALUE for a bad endpoint.
 */
export function endpointUrl(endpoint: Endpoint, scheme: 'ws' | 'http', path: string): string {
  const { host, port, tls } = checkEndpoint(endpoint);
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return `${scheme}${tls ? 's' : ''}://${urlHost}:${port}${path}`;
}
