import type { Mesh } from '../../peer/mesh/mesh.js';
import { DirectListener, type DirectListenerOptions } from '../../peer/node/direct-listener.js';
import { nodeDirectDialer } from '../../peer/node/direct-dialer.js';
import type { SyncSession } from '../../peer/sync/session.js';
import type { SyncOptions } from '../../peer/sync/session-types.js';
import type { DirectDialer } from '../../peer/transport/direct-dialer.js';
import type { RefusedInfo } from '../../peer/node/direct-server.js';

/** A started listener on 127.0.0.1 (port 0) with what it emitted. */
export interface StartedListener {
  listener: DirectListener;
  port: number;
  sessions: SyncSession[];
  refused: RefusedInfo[];
}

/** Starts a listener for `mesh` on loopback; push its `stop` to `cleanups`. */
export async function startListener(
  mesh: Mesh,
  cleanups: Array<() => Promise<void> | void>,
  options: Partial<DirectListenerOptions> = {},
): Promise<StartedListener> {
  const listener = new DirectListener({ mesh, host: '127.0.0.1', port: 0, ...options });
  const sessions: SyncSession[] = [];
  const refused: RefusedInfo[] = [];
  listener.on('session', (s) => sessions.push(s));
  listener.on('refused', (r) => refused.push(r));
  const { port } = await listener.start();
  cleanups.push(() => listener.stop());
  return { listener, port, sessions, refused };
}

/** Dials a listener on loopback and runs the secure handshake as `mesh`. */
export async function dialMesh(
  mesh: Mesh,
  kind: 'websocket' | 'http',
  port: number,
  sync: SyncOptions = {},
  dialer: DirectDialer = nodeDirectDialer,
): Promise<SyncSession> {
  const endpoint = { host: '127.0.0.1', port };
  const raw = kind === 'websocket' ? await dialer.websocket(endpoint) : await dialer.http(endpoint);
  return mesh.connect(raw, sync);
}
