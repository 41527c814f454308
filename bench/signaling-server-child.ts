/**
 * Server process of the signaling benchmark, alone in its process so that its RSS is its own:
 * createSignalingServer on 127.0.0.1 port 0 with the default limits, except maxConnectionsPerIp
 * (argv[2]), since every bench client comes from 127.0.0.1.
 * Prints one JSON line {url, pid} on stdout once it listens; exits when stdin closes.
 */
import { createSignalingServer } from '../signaling/server.js';

const server = await createSignalingServer({
  port: 0,
  host: '127.0.0.1',
  limits: { maxConnectionsPerIp: Number(process.argv[2]) },
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
process.stdout.write(`${JSON.stringify({ url: server.url, pid: process.pid })}\n`);
