/**
 * direct: sync throughput over the direct endpoint. An empty member B dials A's DirectListener
 * on 127.0.0.1 and pulls 100k records, over the WebSocket and over the HTTP tunnel (secure
 * session: every frame sealed with secretbox). Baseline, measured in the same runs: the same
 * number of bytes in messages of the same size, sent from a bare `ws` server to a bare `ws`
 * client on loopback (no meshsync at all).
 */
import { WebSocket, WebSocketServer } from 'ws';
import { Mesh } from '../peer/mesh/mesh.js';
import { nodeDirectDialer } from '../peer/node/direct-dialer.js';
import { DirectListener } from '../peer/node/direct-listener.js';
import { createPeer, type Peer } from '../peer/peer.js';
import { MemoryStore } from '../peer/store/memory-store.js';
import { createMemoryTransportPair } from '../peer/transport/memory-transport.js';
import { silentLogger } from '../shared/log.js';
import { COLLECTION } from './fixture.js';
import { makeTasks } from './records.js';
import { formatInt, formatMs, formatRatio, median, printTable } from './table.js';

const RECORDS = Number(process.env.MESHSYNC_BENCH_DIRECT_RECORDS ?? 100_000);
const RUNS = Number(process.env.MESHSYNC_BENCH_RUNS ?? 3);
const KINDS = ['websocket', 'http'] as const;

const newPeer = (): Promise<Peer> => createPeer({ store: new MemoryStore(), logger: silentLogger });

/** A fresh, empty member of A's mesh (joined over a memory pair without syncing). */
async function freshMember(a: Mesh): Promise<Mesh> {
  const [ta, tb] = createMemoryTransportPair();
  const [sa, joined] = await Promise.all([
    a.connect(ta, { autoPull: false }),
    Mesh.join(await newPeer(), await a.invite(), tb, { sync: { autoPull: false } }),
  ]);
  await joined.session.whenReady();
  sa.close('joined');
  return joined.mesh;
}

interface SyncRun {
  ms: number;
  frameBytes: number;
  pages: number;
}

async function syncOver(kind: (typeof KINDS)[number], a: Mesh, port: number): Promise<SyncRun> {
  const b = await freshMember(a);
  try {
    const raw = await nodeDirectDialer[kind]({ host: '127.0.0.1', port });
    const session = await b.connect(raw, { autoPull: false });
    await session.whenReady();
    const t = performance.now();
    const result = await session.pull();
    const ms = performance.now() - t;
    if (result.rows < RECORDS) throw new Error(`pulled ${result.rows} rows over ${kind}`);
    session.close('done');
    return { ms, frameBytes: result.bytes, pages: result.pages };
  } finally {
    await b.peer.stop();
  }
}

/** `total` bytes in `size`-byte messages from a bare ws server to a bare ws client. */
async function rawWs(total: number, size: number): Promise<number> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 64 * 2 ** 20 });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  const message = new Uint8Array(size).map((_, k) => k & 0xff);
  server.on('connection', (socket) => {
    socket.once('message', () => {
      for (let sent = 0; sent < total; sent += size) socket.send(message);
    });
  });
  const client = new WebSocket(`ws://127.0.0.1:${port}`, { maxPayload: 64 * 2 ** 20 });
  await new Promise<void>((resolve, reject) => {
    client.once('open', resolve);
    client.once('error', reject);
  });
  const t = performance.now();
  await new Promise<void>((resolve) => {
    let got = 0;
    client.on('message', (data: Buffer) => {
      got += data.length;
      if (got >= total) resolve();
    });
    client.send('go');
  });
  const ms = performance.now() - t;
  client.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return ms;
}

export async function direct(): Promise<void> {
  const a = await Mesh.create(await newPeer(), { name: 'A' });
  await a.peer
    .collection(COLLECTION)
    .putMany(makeTasks(RECORDS).map((t) => [t.id, t.value] as const));
  const listener = new DirectListener({ mesh: a, host: '127.0.0.1', port: 0 });
  const { port } = await listener.start();
  const times: Record<string, number[]> = { websocket: [], http: [], raw: [] };
  let frameBytes = 0;
  let pages = 0;
  for (let run = 0; run <= RUNS; run++) {
    for (const kind of KINDS) {
      const result = await syncOver(kind, a, port);
      frameBytes = result.frameBytes;
      pages = result.pages;
      if (run > 0) times[kind]!.push(result.ms);
    }
    const rawMs = await rawWs(frameBytes, Math.ceil(frameBytes / pages));
    if (run > 0) times.raw!.push(rawMs);
    console.log(
      `direct run ${run}${run === 0 ? ' (warm-up)' : ''}: ` +
        `websocket ${formatMs(times.websocket!.at(-1) ?? 0)} ms, http ${formatMs(times.http!.at(-1) ?? 0)} ms, raw ws ${formatMs(rawMs)} ms`,
    );
  }
  await listener.stop();
  await a.peer.stop();
  const mb = frameBytes / 1e6;
  const raw = median(times.raw!);
  const rate = (ms: number): string => formatMs(mb / (ms / 1000));
  const rows = KINDS.map((kind) => {
    const ms = median(times[kind]!);
    return [kind, formatMs(ms / 1000), rate(ms), formatRatio(raw / ms)];
  });
  rows.push(['raw ws (baseline)', formatMs(raw / 1000), rate(raw), '1.00']);
  printTable(
    `direct: empty B pulls ${formatInt(RECORDS)} records (${formatMs(mb)} MB of frames in ${pages} pages) from A's listener on loopback, secure session; medians of ${RUNS} runs after 1 warm-up`,
    ['path', 'sync s', 'frame MB/s', 'of raw ws'],
    rows,
  );
}
