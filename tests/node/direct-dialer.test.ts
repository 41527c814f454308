import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeDirectDialer } from '../../peer/node/direct-dialer.js';
import { rejectionCode } from '../support/codes.js';

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const server of servers.splice(0)) await new Promise((r) => server.close(r));
});

/** A TCP server on loopback that takes connections and never answers. */
async function silentServer(): Promise<number> {
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

/** A loopback port where nothing listens (a server bound and closed again). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe('direct dialer failures', () => {
  for (const kind of ['websocket', 'http'] as const) {
    it(`${kind}: nothing listening gives CONNECT_FAILED`, async () => {
      const port = await closedPort();
      expect(await rejectionCode(nodeDirectDialer[kind]({ host: '127.0.0.1', port }))).toBe(
        'CONNECT_FAILED',
      );
    });

    it(`${kind}: no answer within timeoutMs gives TIMEOUT`, async () => {
      const port = await silentServer();
      const dial = nodeDirectDialer[kind]({ host: '127.0.0.1', port }, { timeoutMs: 100 });
      expect(await rejectionCode(dial)).toBe('TIMEOUT');
    });

    it(`${kind}: an aborted signal gives ABORTED`, async () => {
      const port = await silentServer();
      const controller = new AbortController();
      const dial = nodeDirectDialer[kind](
        { host: '127.0.0.1', port },
        { signal: controller.signal },
      );
      controller.abort();
      expect(await rejectionCode(dial)).toBe('ABORTED');
      const already = nodeDirectDialer[kind](
        { host: '127.0.0.1', port },
        { signal: controller.signal },
      );
      expect(await rejectionCode(already)).toBe('ABORTED');
    });

    it(`${kind}: a bad endpoint gives INVALID_VALUE`, async () => {
      expect(await rejectionCode(nodeDirectDialer[kind]({ host: 'no host', port: 1 }))).toBe(
        'INVALID_VALUE',
      );
    });
  }

  it('http: an answer that is not a meshsync endpoint gives CONNECT_FAILED', async () => {
    const server = createServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => undefined);
      socket.end('HTTP/1.1 201 Created\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}');
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await expect(nodeDirectDialer.http({ host: '127.0.0.1', port })).rejects.toMatchObject({
      code: 'CONNECT_FAILED',
      message: expect.stringContaining('not a meshsync endpoint') as unknown,
    });
  });
});
