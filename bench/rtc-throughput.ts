/**
 * Sync throughput over WebRTC: an empty B pulls every record of A through a sync session on a
 * data-channel transport pair (A offers, B answers; A's transport sends the pages).
 */
import type { DataChannelStats } from '../peer/rtc/data-channel-transport.js';
import type { DataChannelTuning, RtcPort } from '../peer/rtc/rtc-port.js';
import { createMemoryTransportPair } from '../peer/transport/memory-transport.js';
import { openRawPair, transportOf, udpReceiveDrops } from './rtc-pair.js';
import type { Source } from './rtc-sources.js';

export interface SyncSample {
  /** B's pull, from the request to the last row stored. */
  ms: number;
  /** CPU time of the process in that window (all threads). */
  cpuMs: number;
  rows: number;
  pages: number;
  /** A's transport during the pull: frame bytes before compression, wire bytes after. */
  sender: DataChannelStats;
  /** UDP datagrams dropped on a full receive buffer during the pull. */
  udpDrops: number;
}

export interface MemorySample {
  ms: number;
  /** Frame bytes B received. */
  bytes: number;
}

function delta(after: DataChannelStats, before: DataChannelStats): DataChannelStats {
  const out = { ...after };
  for (const key of Object.keys(out) as Array<keyof DataChannelStats>) out[key] -= before[key];
  return out;
}

/** One full pull of `source`'s `count` records into a fresh B over a fresh connection. */
export async function syncOver(
  source: Source,
  count: number,
  portA: RtcPort,
  portB: RtcPort,
  senderTuning: Partial<DataChannelTuning> = {},
): Promise<SyncSample> {
  const receiver = await source.receiver();
  const pair = await openRawPair(portA, portB);
  const ta = transportOf(pair.a, senderTuning);
  const tb = transportOf(pair.b);
  try {
    const [sa, sb] = await receiver.connect(ta, tb);
    const before = { ...ta.stats };
    const drops = udpReceiveDrops();
    const cpu = process.cpuUsage();
    const start = performance.now();
    const result = await sb.pull();
    const ms = performance.now() - start;
    const used = process.cpuUsage(cpu);
    if (result.rows < count) {
      throw new Error(`rtc sync: B received ${result.rows} rows, expected ${count}`);
    }
    sa.close('bench done');
    sb.close('bench done');
    return {
      ms,
      cpuMs: (used.user + used.system) / 1000,
      rows: result.rows,
      pages: result.pages,
      sender: delta(ta.stats, before),
      udpDrops: udpReceiveDrops() - drops,
    };
  } finally {
    ta.close('bench done');
    tb.close('bench done');
    pair.close();
    await receiver.peer.stop();
  }
}

/**
 * The same pull over the in-memory transport pair: what the sync itself costs with no channel
 * (frame bytes as B counts them).
 */
export async function syncOverMemory(source: Source, count: number): Promise<MemorySample> {
  const receiver = await source.receiver();
  const [ta, tb] = createMemoryTransportPair();
  try {
    const [sa, sb] = await receiver.connect(ta, tb);
    const start = performance.now();
    const result = await sb.pull();
    const ms = performance.now() - start;
    if (result.rows < count) throw new Error(`rtc memory sync: ${result.rows} rows of ${count}`);
    sa.close('bench done');
    sb.close('bench done');
    return { ms, bytes: result.bytes };
  } finally {
    await receiver.peer.stop();
  }
}
