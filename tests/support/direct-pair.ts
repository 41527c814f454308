import { afterAll, beforeAll } from 'vitest';
import { nodeDirectDialer } from '../../peer/node/direct-dialer.js';
import { DirectServer, type DirectServerOptions } from '../../peer/node/direct-server.js';
import type { DirectDialer } from '../../peer/transport/direct-dialer.js';
import type { Transport } from '../../peer/transport/transport-port.js';

/** Makes raw transport pairs through a real direct server on loopback. */
export interface DirectPairs {
  /** [dialing end, accepted end] over `kind`; with `acceptedFirst`, the other way round. */
  pair(kind: 'websocket' | 'http', acceptedFirst?: boolean): Promise<[Transport, Transport]>;
  server(): DirectServer;
  port(): number;
}

/**
 * Registers hooks that start a `DirectServer` on 127.0.0.1 (port 0) before the file's tests and
 * stop it after. Pairs are made one at a time: each dial is matched with the next accepted
 * transport.
 */
export function useDirectPairs(
  options: DirectServerOptions = {},
  dialer: DirectDialer = nodeDirectDialer,
): DirectPairs {
  let server: DirectServer;
  let port = 0;
  const waiting: Array<(t: Transport) => void> = [];
  beforeAll(async () => {
    server = new DirectServer({ host: '127.0.0.1', port: 0, ...options });
    server.on('transport', ({ transport }) => {
      const take = waiting.shift();
      if (take) take(transport);
      else transport.close('unexpected');
    });
    port = (await server.start()).port;
  });
  afterAll(() => server.stop());
  return {
    async pair(kind, acceptedFirst = false) {
      const accepted = new Promise<Transport>((resolve) => waiting.push(resolve));
      const endpoint = { host: '127.0.0.1', port };
      const dialed =
        kind === 'websocket' ? await dialer.websocket(endpoint) : await dialer.http(endpoint);
      const other = await accepted;
      return acceptedFirst ? [other, dialed] : [dialed, other];
    },
    server: () => server,
    port: () => port,
  };
}
