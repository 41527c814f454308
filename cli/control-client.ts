import { createConnection } from 'node:net';
import type { JsonValue } from '../shared/json.js';
import { CliError, RemoteCliError } from './cli-error.js';
import { MAX_CONTROL_LINE, type ControlRequest, type ControlResponse } from './control-protocol.js';

/** No peer listens on the socket (no file, or a stale one). */
export const NOT_RUNNING = Symbol('not running');

/**
 * Sends one request to the running peer's control socket. Resolves with its result,
 * `NOT_RUNNING` when no peer listens there, and rejects with the peer's own error code
 * (`RemoteCliError`) when it refused, or CONTROL_FAILED when the answer is unreadable.
 */
export function controlRequest(
  path: string,
  request: ControlRequest,
  timeoutMs = 60_000,
): Promise<JsonValue | typeof NOT_RUNNING> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let connected = false;
    let buffered = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new CliError('CONTROL_FAILED', `no answer from the running peer in ${timeoutMs} ms`));
    }, timeoutMs);
    const done = (): void => clearTimeout(timer);
    socket.on('connect', () => {
      connected = true;
      socket.write(JSON.stringify(request) + '\n');
    });
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      if (buffered.length > MAX_CONTROL_LINE) socket.destroy(new Error('answer too large'));
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      done();
      if (!connected && (err.code === 'ENOENT' || err.code === 'ECONNREFUSED')) {
        resolve(NOT_RUNNING);
      } else {
        reject(new CliError('CONTROL_FAILED', `control socket: ${err.message}`));
      }
    });
    socket.on('end', () => {
      done();
      try {
        const response = JSON.parse(buffered) as ControlResponse;
        if (response.ok) resolve(response.result);
        else reject(new RemoteCliError(response.error.code, response.error.message));
      } catch {
        reject(new CliError('CONTROL_FAILED', 'the running peer sent an unreadable answer'));
      }
    });
  });
}

/** True when a peer answers on the control socket. */
export async function probeControl(path: string): Promise<boolean> {
  try {
    return (await controlRequest(path, { op: 'status' }, 5000)) !== NOT_RUNNING;
  } catch {
    // Something listens but did not answer as a peer: treat it as live, never delete it.
    return true;
  }
}
