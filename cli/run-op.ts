import type { JsonValue } from '../shared/json.js';
import type { Logger } from '../shared/log.js';
import type { Endpoint } from '../shared/token/endpoint.js';
import { controlRequest, NOT_RUNNING } from './control-client.js';
import type { ControlRequest } from './control-protocol.js';
import { openDevice, type DataDir } from './data-dir.js';
import { performOp } from './data-ops.js';

/**
 * Runs a data or device operation: through the control socket when `meshsync start` runs on
 * this data directory (the running peer performs it, and its sessions carry the change at
 * once), else on the SQLite store opened here (the change syncs at the next `start`).
 */
export async function runOp(
  dir: DataDir,
  request: ControlRequest,
  logger: Logger,
  offlineEndpoints: () => Endpoint[] = () => [],
): Promise<{ result: JsonValue; via: 'peer' | 'store' }> {
  const remote = await controlRequest(dir.socket, request);
  if (remote !== NOT_RUNNING) return { result: remote, via: 'peer' };
  const device = await openDevice(dir, logger);
  try {
    const result = await performOp({ mesh: device.mesh, endpoints: offlineEndpoints }, request);
    return { result, via: 'store' };
  } finally {
    await device.close();
  }
}
