/**
 * Baseline server process of the signaling benchmark: a bare `ws` server on 127.0.0.1 port 0
 * (plain node:http, no express) that forwards every message, as is, to the other socket of its
 * pair (`?pair=<n>&side=<0|1>`): no parsing, no rooms, no proofs, no limits.
 * Prints one JSON line {url, pid} on stdout once it listens; exits when stdin closes.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

const pairs = new Map<number, [WebSocket | undefined, WebSocket | undefined]>();
const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
const http = createServer((_req, res) => res.writeHead(404).end());
http.on('upgrade', (req, socket, head) => {
  const query = new URL(req.url ?? '/', 'http://x').searchParams;
  const pair = Number(query.get('pair'));
  const side = query.get('side') === '1' ? 1 : 0;
  wss.handleUpgrade(req, socket, head, (ws) => {
    const sockets = pairs.get(pair) ?? [undefined, undefined];
    sockets[side] = ws;
    pairs.set(pair, sockets);
    ws.on('message', (data, isBinary) => sockets[1 - side]?.send(data, { binary: isBinary }));
    ws.on('error', () => undefined);
    ws.on('close', () => {
      sockets[side] = undefined;
      if (!sockets[1 - side]) pairs.delete(pair);
    });
  });
});
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
const url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/`;
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
process.stdout.write(`${JSON.stringify({ url, pid: process.pid })}\n`);
