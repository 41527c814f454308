import { hostname } from 'node:os';
import type { Command } from 'commander';
import { Mesh } from '../../peer/mesh/mesh.js';
import { nodeDirectDialer } from '../../peer/node/direct-dialer.js';
import type { Peer } from '../../peer/peer.js';
import type { Transport } from '../../peer/transport/transport-port.js';
import { parseConnectionString } from '../../shared/token/connection-string.js';
import type { Endpoint } from '../../shared/token/endpoint.js';
import { decodeInviteToken } from '../../shared/token/invite-token.js';
import { tokenKind } from '../../shared/token/offer-token.js';
import { CliError, describeError } from '../cli-error.js';
import { contextOf, type CliContext } from '../context.js';
import { hasDevice, openPeer, prepareDataDir, readConfig } from '../data-dir.js';
import { parseEndpoint, parsePositive, withDataOptions, type CommonOptions } from '../options.js';

interface JoinOptions extends CommonOptions {
  name?: string;
  endpoint?: Endpoint[];
  timeout?: number;
}

/** The token and where to dial, from an invite token or a connection string. */
export function readInvite(input: string): { token: string; endpoints: Endpoint[] } {
  const text = input.trim();
  if (/^meshsync:\/\//i.test(text)) {
    const info = parseConnectionString(text);
    if (info.token === undefined) {
      throw new CliError('USAGE', 'this connection string has no token: ask for an invite');
    }
    const invite = decodeInviteToken(info.token);
    return {
      token: info.token,
      endpoints: [{ host: info.host, port: info.port }, ...invite.endpoints],
    };
  }
  const token = text.replace(/[\s-]/g, '');
  if (tokenKind(token) === 'offer') {
    throw new CliError('USAGE', 'this is an offer token: use `meshsync answer <token>`');
  }
  return { token, endpoints: decodeInviteToken(token).endpoints };
}

/** Opens the device of `ctx.dir`, creating it (with no mesh yet) if there is none. */
export async function ensurePeer(ctx: CliContext, name: string | undefined): Promise<Peer> {
  if (hasDevice(ctx.dir)) return openPeer(ctx.dir, ctx.logger);
  prepareDataDir(ctx.dir, { name: name ?? hostname() });
  return openPeer(ctx.dir, ctx.logger, { create: true });
}

/** Dials each endpoint over WebSocket, then HTTP, until one answers. */
async function dial(endpoints: Endpoint[], timeoutMs: number, ctx: CliContext): Promise<Transport> {
  const reasons: string[] = [];
  for (const endpoint of endpoints) {
    for (const kind of ['websocket', 'http'] as const) {
      try {
        return await nodeDirectDialer[kind](endpoint, { timeoutMs });
      } catch (err) {
        const { code, message } = describeError(err);
        ctx.log.debug({ endpoint, kind, code }, 'dial failed');
        reasons.push(`${kind} ${endpoint.host}:${endpoint.port}: ${code} ${message}`);
      }
    }
  }
  if (endpoints.length === 0) {
    throw new CliError(
      'UNREACHABLE',
      'the invite names no endpoint: pass --endpoint HOST:PORT of the inviting device',
    );
  }
  throw new CliError('UNREACHABLE', `could not reach the inviting device (${reasons.join('; ')})`);
}

export function joinCommand(program: Command): void {
  withDataOptions(
    program
      .command('join')
      .description('join a mesh with an invite token or a meshsync:// connection string')
      .argument('<invite>', 'invite token or connection string')
      .option('--name <name>', 'this device in the member list [default: the host name]')
      .option('--endpoint <host:port>', 'dial this address (repeatable)', parseEndpoint)
      .option(
        '--timeout <seconds>',
        'per dial and for the first sync [default: 10]',
        parsePositive,
      ),
  ).action(async (input: string, options: JoinOptions) => {
    const ctx = contextOf(options);
    const invite = readInvite(input);
    const timeoutMs = (options.timeout ?? 10) * 1000;
    const peer = await ensurePeer(ctx, options.name);
    try {
      const name = options.name ?? readConfig(ctx.dir).name;
      const transport = await dial(
        [...(options.endpoint ?? []), ...invite.endpoints],
        timeoutMs,
        ctx,
      );
      const { mesh, session } = await Mesh.join(peer, invite.token, transport, { name });
      await session.whenReady();
      await session.sync({ signal: AbortSignal.timeout(timeoutMs * 6) });
      session.close('joined');
      mesh.stop();
      const result = {
        device: mesh.device,
        name,
        joinedVia: session.remoteDevice,
      };
      if (ctx.json) return ctx.printJson(result);
      ctx.print(
        `Joined: device ${result.device} (${name}) is now paired with ${result.joinedVia}.`,
      );
      ctx.print('Synced. Run `meshsync start` to stay in sync.');
    } finally {
      await peer.stop();
    }
  });
}
