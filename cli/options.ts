import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';

/** The listener's port when none is given (the signaling server's default is 8787). */
export const DEFAULT_PORT = 8788;
/** The signaling server `npm start` runs next to its peer. */
export const DEFAULT_SIGNAL_PORT = 8787;

/** Flags every device command takes, read the same way everywhere. */
export interface CommonOptions {
  data?: string;
  signal?: string;
  port?: number;
  logLevel?: string;
  json?: boolean;
}

/** Where the device lives: `--data`, else MESHSYNC_DATA (commander reads it), else ~/.meshsync. */
export function dataDirOf(options: CommonOptions): string {
  return resolve(options.data ?? join(homedir(), '.meshsync'));
}

export function parsePort(text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    throw new InvalidArgumentError('expected a port number from 0 to 65535');
  }
  return Number(text);
}

export function parsePositive(text: string): number {
  if (!/^\d{1,9}$/.test(text) || Number(text) < 1) {
    throw new InvalidArgumentError('expected a whole number of at least 1');
  }
  return Number(text);
}

export function parseSignalUrl(text: string): string {
  if (text === '') return ''; // MESHSYNC_SIGNAL= (empty): no server
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidArgumentError('expected a ws:// or wss:// URL');
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new InvalidArgumentError('expected a ws:// or wss:// URL');
  }
  return url.toString();
}

const LEVELS = ['debug', 'info', 'warn', 'error', 'silent'];

function parseLevel(text: string): string {
  if (!LEVELS.includes(text)) throw new InvalidArgumentError(`expected ${LEVELS.join(', ')}`);
  return text;
}

/** Adds `--data`, `--log-level` and `--json` (every device command has them). */
export function withDataOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--data <dir>', 'data directory of this device [default: ~/.meshsync]').env(
        'MESHSYNC_DATA',
      ),
    )
    .addOption(
      new Option('--log-level <level>', 'debug, info, warn, error or silent')
        .env('MESHSYNC_LOG_LEVEL')
        .argParser(parseLevel),
    )
    .option('--json', 'machine-readable output (JSON)');
}

/** `--signal URL` (env MESHSYNC_SIGNAL). */
export function signalOption(): Option {
  return new Option('--signal <url>', 'signaling server, e.g. ws://127.0.0.1:8787/signal')
    .env('MESHSYNC_SIGNAL')
    .argParser(parseSignalUrl);
}

/** `--port N` (env MESHSYNC_PORT): the direct listener's port. */
export function portOption(description: string): Option {
  return new Option('--port <n>', description).env('MESHSYNC_PORT').argParser(parsePort);
}

/** `host:port` or `[v6]:port`, for `--endpoint`. */
export function parseEndpoint(text: string, previous: Array<{ host: string; port: number }> = []) {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]/]+)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (!match || port < 1 || port > 65535) throw new InvalidArgumentError('expected HOST:PORT');
  return [...previous, { host: match[1] ?? match[2]!, port }];
}
