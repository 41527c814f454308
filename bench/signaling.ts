/**
 * signaling: the signaling server under load. The server runs alone in a child process (bundled
 * with esbuild, run by plain node); the clients run here, so they share one clock. 1k, 5k and
 * 10k WebSocket clients in pairs (a room of two devices each) connect and join with the real
 * room and device proofs; then a steady rate of signals the size of sealed ones, then of 1 KiB
 * relay frames, each carrying its send time; the receiver records the latency. At 10k, also
 * one window longer than the server's heartbeat interval. Server RSS from /proc/<pid>/status,
 * after all joined and after the load.
 * Baseline, measured first at the same client counts and rates, in its own process: a bare `ws`
 * server that forwards each message to the paired socket (no validation, rooms, proofs, limits).
 * MESHSYNC_BENCH_QUICK=1: 200, 500 and 1000 clients, fewer and shorter runs (a quick check).
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import nacl from 'tweetnacl';
import { fromBase64url, toBase64url } from '../shared/crypto/bytes.js';
import {
  deviceJoinProof,
  roomJoinProof,
  verifyDeviceJoin,
  verifyRoomJoin,
} from '../shared/secure/room.js';
import {
  Recorder,
  buildServers,
  connectClient,
  makePairs,
  percentile,
  pool,
  runLoad,
  sampleProc,
  startServer,
  type Client,
  type Pair,
  type ServerKind,
  type ServerProcess,
} from './signaling-load.js';
import {
  CONCURRENCY,
  COUNTS,
  LONG,
  RELAY,
  RUNS,
  SETTLE_MS,
  SIGNAL,
  WARMUP,
} from './signaling-config.js';
import { mib, report, type Level } from './signaling-report.js';
import { formatInt, median, sleep } from './table.js';

/** Connects clients `from..to` to `server`, timing it and the CPU both processes spent. */
async function ramp(
  server: ServerProcess,
  pairs: readonly Pair[],
  clients: Client[],
  recorder: Recorder,
  to: number,
): Promise<Level['step']> {
  const from = clients.length;
  const serverCpu = sampleProc(server.pid).cpuMs;
  const clientCpu = process.cpuUsage();
  const start = performance.now();
  await pool(from, to, CONCURRENCY, async (i) => {
    clients[i] = await connectClient(server.kind, server.url, pairs, i, recorder);
  });
  const ms = performance.now() - start;
  const used = process.cpuUsage(clientCpu);
  return {
    clients: to - from,
    ms,
    serverCpuMs: sampleProc(server.pid).cpuMs - serverCpu,
    clientCpuMs: (used.user + used.system) / 1000,
  };
}

/** RSS once joined, then a warm-up and RUNS measured runs of signals and relay frames. */
async function measure(
  server: ServerProcess,
  clients: readonly Client[],
  recorder: Recorder,
  step: Level['step'],
  connectMs: number,
): Promise<Level> {
  await sleep(SETTLE_MS);
  const joined = sampleProc(server.pid);
  let sent = 0;
  let received = 0;
  const level: Level = {
    kind: server.kind,
    clients: clients.length,
    connectMs,
    step,
    signal: { p50: [], p99: [], all: [] },
    relay: { p50: [], p99: [], all: [] },
    sent: 0,
    lost: 0,
    rssJoined: joined.rssBytes,
    rssAfter: 0,
    rssPeak: 0,
    cpuShare: 0,
    long: null,
  };
  for (const options of WARMUP) {
    const result = await runLoad(clients, recorder, options);
    sent += result.sent;
    received += result.received;
  }
  const cpuBefore = sampleProc(server.pid).cpuMs;
  const wallBefore = performance.now();
  for (let run = 0; run < RUNS; run++) {
    for (const options of [SIGNAL, RELAY]) {
      const result = await runLoad(clients, recorder, options);
      sent += result.sent;
      received += result.received;
      const into = options.kind === 'signal' ? level.signal : level.relay;
      into.p50.push(percentile(result.latencies, 0.5));
      into.p99.push(percentile(result.latencies, 0.99));
      into.all.push(result.latencies);
    }
  }
  level.cpuShare = (sampleProc(server.pid).cpuMs - cpuBefore) / (performance.now() - wallBefore);
  if (LONG && clients.length === COUNTS[COUNTS.length - 1]) {
    const result = await runLoad(clients, recorder, LONG);
    sent += result.sent;
    received += result.received;
    level.long = result.latencies;
  }
  const after = sampleProc(server.pid);
  return {
    ...level,
    sent,
    lost: sent - received,
    rssAfter: after.rssBytes,
    rssPeak: after.peakRssBytes,
  };
}

/** The server's rejection counters and RSS, from its own GET /metrics. */
async function serverMetrics(server: ServerProcess): Promise<{ rejections: string; rss: number }> {
  const url = server.url.replace(/^ws:/, 'http:').replace(/\/signal$/, '/metrics');
  const text = await (await fetch(url)).text();
  const rejections = [
    ...text.matchAll(/^meshsync_signaling_rejections_total\{reason="(\w+)"\} (\d+)$/gm),
  ]
    .map((m) => `${m[1]} ${m[2]}`)
    .join(', ');
  const rss = Number(/^process_resident_memory_bytes (\d+)$/m.exec(text)?.[1]);
  return { rejections: rejections || 'none', rss };
}

/**
 * Median ms of the two signature checks of a join: through the shared verify functions (their
 * default check, tweetnacl), and node:crypto's native Ed25519 for comparison; and of the
 * client's two signs (tweetnacl).
 */
function joinCrypto(pair: Pair): { verifyMs: number; nativeMs: number; signMs: number } {
  const challenge = nacl.randomBytes(32);
  const room = pair.room.roomId;
  const device = pair.devices[0];
  const key = toBase64url(device.publicKey);
  const spki = (publicKey: Uint8Array): KeyObject =>
    createPublicKey({
      key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), publicKey]),
      format: 'der',
      type: 'spki',
    });
  const times = { sign: [] as number[], verify: [] as number[], native: [] as number[] };
  for (let k = 0; k < 25; k++) {
    let t = performance.now();
    const proof = roomJoinProof(pair.room, challenge);
    const sig = deviceJoinProof(device, room, challenge);
    times.sign.push(performance.now() - t);
    t = performance.now();
    const ok =
      verifyRoomJoin(room, challenge, proof) && verifyDeviceJoin(room, challenge, key, sig);
    times.verify.push(performance.now() - t);
    const message = Buffer.from('a signed message of about the size of a join challenge');
    const roomSig = nacl.sign.detached(message, pair.room.secretKey);
    const deviceSig = nacl.sign.detached(message, device.secretKey);
    t = performance.now();
    const native =
      verify(null, message, spki(fromBase64url(room)), roomSig) &&
      verify(null, message, spki(device.publicKey), deviceSig);
    times.native.push(performance.now() - t);
    if (!ok || !native) throw new Error('signaling bench: a join proof does not verify');
  }
  const warm = (values: number[]): number => median(values.slice(5));
  return { verifyMs: warm(times.verify), nativeMs: warm(times.native), signMs: warm(times.sign) };
}

const loadAverage = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ')[0] ?? '?';

export async function signaling(): Promise<void> {
  const loadBefore = loadAverage();
  const scripts = await buildServers();
  const max = COUNTS[COUNTS.length - 1]!;
  const pairs = makePairs(max / 2);
  const crypto = joinCrypto(pairs[0]!);
  const idle: Record<ServerKind, number> = { meshsync: 0, baseline: 0 };
  const levels: Level[] = [];
  const notes: string[] = [];
  // One server at a time (the baseline first), so that neither sees the other's traffic.
  for (const kind of ['baseline', 'meshsync'] as const) {
    const server = await startServer(kind, scripts[kind], [String(max)]);
    await sleep(SETTLE_MS);
    idle[kind] = sampleProc(server.pid).rssBytes;
    const recorder = new Recorder();
    recorder.stamped = kind === 'meshsync';
    const clients: Client[] = [];
    let connectMs = 0;
    for (const count of COUNTS) {
      const step = await ramp(server, pairs, clients, recorder, count);
      connectMs += step.ms;
      levels.push(await measure(server, clients, recorder, step, connectMs));
      if (kind === 'meshsync') {
        const metrics = await serverMetrics(server);
        notes.push(
          `${formatInt(count)} clients: meshsync rejections ${metrics.rejections}; ` +
            `its /metrics RSS ${mib(metrics.rss)} MiB`,
        );
      }
    }
    await server.stop();
    await sleep(500);
    const errors = [...recorder.errors].map(([code, n]) => `${code} ${n}`).join(', ');
    notes.push(
      `${kind}: errors sent to clients [${errors}], late arrivals ${recorder.late}, wrong sender ` +
        `stamps ${kind === 'meshsync' ? recorder.misstamped : 'n/a'}, unexpected closes ` +
        `${recorder.unexpectedCloses}`,
    );
  }
  notes.push(
    `load average (1 min, this machine has ${availableParallelism()} cores): ${loadBefore} before, ` +
      `${loadAverage()} after`,
  );
  levels.sort((a, b) => a.clients - b.clients || (a.kind === 'baseline' ? -1 : 1));
  report(levels, idle, crypto, notes);
}
