import { parseArgs } from 'node:util';
import { MeshsyncError } from '../shared/errors.js';
import { jsonLogger, type LogLevel } from './json-logger.js';
import { DEFAULT_SIGNALING_LIMITS, type SignalingLimits } from './limits.js';
import { createSignalingServer, type SignalingServer } from './server.js';

export const SIGNAL_HELP = `Usage: meshsync signal [options]

Runs a meshsync signaling server: rooms, presence, and relay of sealed signals and
end-to-end encrypted frames. It never sees a mesh secret or anything it relays.

Options:
  --port N            TCP port (0 picks a free one)             [default: 8787, env PORT]
  --host ADDR         address to listen on                      [default: 127.0.0.1]
                      (0.0.0.0 or :: to serve other machines)
  --path P            WebSocket path                            [default: /signal]
  --trust-proxy       client address from X-Forwarded-For (behind a reverse proxy)
  --limit NAME=N      change a limit; repeatable. Names and defaults:
${Object.entries(DEFAULT_SIGNALING_LIMITS)
  .map(([k, v]) => `                        ${k}=${v}`)
  .join('\n')}
  --log-level L       debug | info | warn | error | silent      [default: info]
  -h, --help          show this help

Logs are JSON lines on stdout. SIGTERM or SIGINT stops it gracefully: clients are told,
then their sockets drain and close. GET /healthz and GET /metrics (Prometheus) are served
on the same port.`;

/** `meshsync signal`: parses flags, starts the server, stops it on SIGTERM/SIGINT. */
export async function runSignalCommand(
  argv: string[],
  env: Record<string, string | undefined> = process.env,
): Promise<SignalingServer | null> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      path: { type: 'string' },
      'trust-proxy': { type: 'boolean' },
      limit: { type: 'string', multiple: true },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(SIGNAL_HELP + '\n');
    return null;
  }
  const level = (values['log-level'] ?? 'info') as LogLevel;
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(level)) {
    throw new MeshsyncError(
      'INVALID_OPTION',
      `--log-level must be debug, info, warn, error or silent`,
    );
  }
  const portText = values.port ?? env.PORT ?? '8787';
  if (!/^\d{1,5}$/.test(portText)) {
    throw new MeshsyncError('INVALID_OPTION', `--port must be a number, got ${portText}`);
  }
  return createSignalingServer({
    port: Number(portText),
    host: values.host ?? '127.0.0.1',
    path: values.path ?? '/signal',
    trustProxy: values['trust-proxy'] ?? false,
    limits: parseLimits(values.limit ?? []),
    logger: jsonLogger((line) => process.stdout.write(line), level),
    handleSignals: true,
  });
}

function parseLimits(items: string[]): Partial<SignalingLimits> {
  const limits: Partial<SignalingLimits> = {};
  for (const item of items) {
    const match = /^([A-Za-z]+)=(\d+)$/.exec(item);
    if (!match || !Object.hasOwn(DEFAULT_SIGNALING_LIMITS, match[1]!)) {
      throw new MeshsyncError(
        'INVALID_OPTION',
        `--limit ${item}: expected NAME=N with NAME one of ${Object.keys(DEFAULT_SIGNALING_LIMITS).join(', ')}`,
      );
    }
    limits[match[1] as keyof SignalingLimits] = Number(match[2]);
  }
  return limits;
}
