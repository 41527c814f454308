/**
 * The baselines of the rtc benchmark: bytes pushed through a pair's raw data channel (max-size
 * messages, the transport's backpressure) and through the data-channel transport with
 * compression off (frames of random bytes), each on a fresh connection of the same pair.
 */
import { randomFillSync } from 'node:crypto';
import type { DataChannelLike, DataChannelTuning, RtcPort } from '../peer/rtc/rtc-port.js';
import { messageBytesOf, openRawPair, transportOf, udpReceiveDrops } from './rtc-pair.js';

/** What the transport would poll at, should `bufferedamountlow` not fire. */
const POLL_MS = 50;
const TIMEOUT_MS = 120_000;

export interface RawSample {
  /** From the first send to the last byte received. */
  ms: number;
  bytes: number;
  /** UDP datagrams dropped on a full receive buffer meanwhile. */
  udpDrops: number;
  /** CPU of this process meanwhile (all threads: both ends' stacks). */
  cpuMs: number;
}

/** CPU ms of this process since `before` (from `process.cpuUsage()`). */
export function cpuSince(before: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

function randomBytes(length: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(length);
  for (let at = 0; at < length; at += 65_536)
    randomFillSync(bytes, at, Math.min(65_536, length - at));
  return bytes;
}

function byteLengthOf(data: unknown): number {
  return (data as { byteLength?: number } | null)?.byteLength ?? 0;
}

/** Resolves once `count()` reaches `total`, checked by `check` calls; rejects after a timeout. */
function arrival(total: number): { check: (received: number) => void; done: Promise<void> } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const timer = setTimeout(
    () => reject(new Error(`raw: not all arrived in ${TIMEOUT_MS} ms`)),
    TIMEOUT_MS,
  );
  const check = (received: number): void => {
    if (received < total) return;
    clearTimeout(timer);
    resolve();
  };
  return { check, done };
}

/** Waits while `channel` holds more than the high-water mark, as the transport does. */
export function drainer(channel: DataChannelLike, tuning: DataChannelTuning): () => Promise<void> {
  let wake: (() => void) | null = null;
  channel.bufferedAmountLowThreshold = tuning.lowWaterBytes;
  channel.addEventListener('bufferedamountlow', () => wake?.());
  return () =>
    new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (channel.bufferedAmount <= tuning.lowWaterBytes) wake?.();
      }, POLL_MS);
      wake = () => {
        clearInterval(poll);
        wake = null;
        resolve();
      };
    });
}

/** `total` bytes from `sender` to `receiver` in messages of `messageBytes`; returns ms. */
async function push(
  sender: DataChannelLike,
  receiver: DataChannelLike,
  total: number,
  messageBytes: number,
  tuning: DataChannelTuning,
): Promise<number> {
  const payload = randomBytes(messageBytes);
  const tail = payload.slice(0, total % messageBytes);
  let received = 0;
  const { check, done } = arrival(total);
  receiver.addEventListener('message', (event) => {
    received += byteLengthOf((event as { data?: unknown }).data);
    check(received);
  });
  const drain = drainer(sender, tuning);
  const start = performance.now();
  for (let sent = 0; sent < total;) {
    if (sender.bufferedAmount > tuning.highWaterBytes) await drain();
    const message = total - sent >= messageBytes ? payload : tail;
    sender.send(message);
    sent += message.length;
  }
  await done;
  return performance.now() - start;
}

/** Raw data-channel throughput of the pair: `bytes` in max-size messages. */
export async function rawChannel(
  portA: RtcPort,
  portB: RtcPort,
  bytes: number,
): Promise<RawSample> {
  const pair = await openRawPair(portA, portB);
  try {
    const messageBytes = messageBytesOf(pair.a);
    const drops = udpReceiveDrops();
    const cpu = process.cpuUsage();
    const ms = await push(pair.a.channel, pair.b.channel, bytes, messageBytes, portA.tuning);
    return { ms, bytes, udpDrops: udpReceiveDrops() - drops, cpuMs: cpuSince(cpu) };
  } finally {
    pair.close();
  }
}

/** Throughput of the data-channel transport, compression off: `bytes` in frames of `frameBytes`. */
export async function rawTransport(
  portA: RtcPort,
  portB: RtcPort,
  bytes: number,
  frameBytes: number,
): Promise<RawSample> {
  const pair = await openRawPair(portA, portB);
  const ta = transportOf(pair.a, { compress: 'never' });
  const tb = transportOf(pair.b, { compress: 'never' });
  try {
    const frame = randomBytes(frameBytes);
    let received = 0;
    const { check, done } = arrival(bytes);
    tb.on('message', (message) => {
      received += message.length;
      check(received);
    });
    const drops = udpReceiveDrops();
    const cpu = process.cpuUsage();
    const start = performance.now();
    const sends: Array<Promise<void>> = [];
    for (let sent = 0; sent < bytes; sent += frameBytes) {
      sends.push(ta.send(bytes - sent >= frameBytes ? frame : frame.subarray(0, bytes - sent)));
    }
    await Promise.all([...sends, done]);
    const ms = performance.now() - start;
    return { ms, bytes, udpDrops: udpReceiveDrops() - drops, cpuMs: cpuSince(cpu) };
  } finally {
    ta.close('bench done');
    tb.close('bench done');
    pair.close();
  }
}
