import nacl from 'tweetnacl';
import { nodeWebSocket } from '../../peer/node/web-socket.js';
import {
  SignalingClient,
  type SignalingClientOptions,
} from '../../peer/signaling/signaling-client.js';
import { generateIdentity, type Identity } from '../../shared/crypto/identity.js';
import { roomKeys, type RoomKeys } from '../../shared/secure/room.js';
import { createSignalingServer, type SignalingServer } from '../../signaling/server.js';
import type { SignalingLimits } from '../../signaling/limits.js';
import { eventually } from '../support/peers.js';

/** Servers and clients of one test, closed by `cleanup()`. */
export class SignalingTestbed {
  readonly servers: SignalingServer[] = [];
  readonly clients: SignalingClient[] = [];

  async server(limits: Partial<SignalingLimits> = {}, port = 0): Promise<SignalingServer> {
    const server = await createSignalingServer({
      port,
      host: '127.0.0.1',
      limits,
      shutdownGraceMs: 500,
      shutdownRetryMs: 0,
    });
    this.servers.push(server);
    return server;
  }

  client(
    url: string,
    options: Partial<SignalingClientOptions> = {},
  ): SignalingClient & { identity: Identity } {
    const identity = options.identity ?? generateIdentity((n) => nacl.randomBytes(n));
    const client = new SignalingClient({
      url,
      identity,
      webSocket: nodeWebSocket,
      reconnect: { initialMs: 20, maxMs: 200 },
      ...options,
    });
    this.clients.push(client);
    return Object.assign(client, { identity });
  }

  async cleanup(): Promise<void> {
    for (const client of this.clients.splice(0)) client.stop();
    for (const server of this.servers.splice(0)) await server.close();
  }
}

export function newRoom(): RoomKeys {
  return roomKeys(nacl.randomBytes(32));
}

/** Resolves when `check` holds, polling; fails after `ms`. */
export const until = (check: () => boolean, ms = 10_000): Promise<void> => eventually(check, ms);
