/**
 * secure-sync: what the secure session costs. Peer B, empty, pulls 50k records from A over the
 * in-memory pair, once plain (the baseline, measured in the same runs) and once through the
 * mesh's secure session (handshake, then every frame sealed with secretbox), both ways alike.
 * Also the handshake alone: median time for two members to authenticate each other.
 */
import { Mesh } from '../peer/mesh/mesh.js';
import { createPeer, type Peer } from '../peer/peer.js';
import { MemoryStore } from '../peer/store/memory-store.js';
import type { SyncSession } from '../peer/sync/session.js';
import { createMemoryTransportPair } from '../peer/transport/memory-transport.js';
import { silentLogger } from '../shared/log.js';
import { COLLECTION } from './fixture.js';
import { makeTasks } from './records.js';
import { formatInt, formatMs, formatRatio, median, printTable } from './table.js';

const RECORDS = 50_000;
const RUNS = 5;

const newPeer = (): Promise<Peer> => createPeer({ store: new MemoryStore(), logger: silentLogger });

async function pair(secure: boolean, a: Mesh, b: Mesh): Promise<[SyncSession, SyncSession]> {
  const [ta, tb] = createMemoryTransportPair();
  if (!secure)
    return [a.peer.connect(ta, { autoPull: false }), b.peer.connect(tb, { autoPull: false })];
  return Promise.all([a.connect(ta, { autoPull: false }), b.connect(tb, { autoPull: false })]);
}

/** A fresh B joined to A's mesh, so both plain and secure runs start from the same state. */
async function freshMember(a: Mesh): Promise<Mesh> {
  const b = await newPeer();
  const [ta, tb] = createMemoryTransportPair();
  const [sa, joined] = await Promise.all([a.connect(ta), Mesh.join(b, await a.invite(), tb)]);
  await Promise.all([sa.whenReady(), joined.session.whenReady()]);
  sa.close('joined');
  return joined.mesh;
}

export async function secureSync(): Promise<void> {
  const a = await Mesh.create(await newPeer(), { name: 'A' });
  await a.peer
    .collection(COLLECTION)
    .putMany(makeTasks(RECORDS).map((t) => [t.id, t.value] as const));
  const times = { plain: [] as number[], secure: [] as number[], handshake: [] as number[] };
  let bytes = 0;
  for (let run = 0; run <= RUNS; run++) {
    for (const mode of ['plain', 'secure'] as const) {
      const b = await freshMember(a);
      let t = performance.now();
      const [sa, sb] = await pair(mode === 'secure', a, b);
      await Promise.all([sa.whenReady(), sb.whenReady()]);
      const handshake = performance.now() - t;
      t = performance.now();
      const result = await sb.pull();
      const elapsed = performance.now() - t;
      if (result.rows < RECORDS) throw new Error(`pulled ${result.rows} rows`);
      if (run > 0) {
        times[mode].push(elapsed);
        if (mode === 'secure') times.handshake.push(handshake);
      }
      bytes = sb.status().bytesIn;
      sa.close('done');
      await b.peer.stop();
    }
  }
  const plain = median(times.plain);
  const secure = median(times.secure);
  printTable(
    `secure-sync: pull ${formatInt(RECORDS)} records (~${formatInt(bytes / 2 ** 20)} MiB on the wire) over the memory pair, median of ${RUNS} runs`,
    ['path', 'ms', 'records/s', 'ratio to plain'],
    [
      ['plain (baseline)', formatMs(plain), formatInt((RECORDS / plain) * 1000), '1.00'],
      [
        'secure session (secretbox per frame)',
        formatMs(secure),
        formatInt((RECORDS / secure) * 1000),
        formatRatio(secure / plain),
      ],
    ],
  );
  printTable(
    'secure handshake between two members (memory pair)',
    ['median ms'],
    [[formatMs(median(times.handshake))]],
  );
  await a.peer.stop();
}
