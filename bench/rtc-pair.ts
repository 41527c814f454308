/**
 * WebRTC pairs for the rtc benchmark, inside a loopback-only namespace (`isolated`): the RTC port
 * of each Node stack, two connections negotiated directly (no signaling server) down to their
 * raw data channels, and a port wrapper that timestamps what a connection goes through. Every
 * connection made here is registered, so `closeAllConnections()` can close them all at the end:
 * an open wrtc connection keeps the process alive.
 */
import { readFileSync } from 'node:fs';
import { WERIFT_LOOPBACK, weriftRtc } from '../peer/node/werift-rtc.js';
import { wrtcRtc } from '../peer/node/wrtc-rtc.js';
import { DataChannelTransport } from '../peer/rtc/data-channel-transport.js';
import type {
  DataChannelLike,
  DataChannelTuning,
  RtcCandidate,
  RtcConnection,
  RtcPort,
} from '../peer/rtc/rtc-port.js';
import { sdpFacts, type SdpFacts } from '../peer/rtc/sdp-facts.js';

export type RtcStack = 'werift' | 'wrtc';
/** Offerer -> answerer. */
export const RTC_PAIRS: ReadonlyArray<readonly [RtcStack, RtcStack]> = [
  ['werift', 'werift'],
  ['werift', 'wrtc'],
  ['wrtc', 'werift'],
  ['wrtc', 'wrtc'],
];

/** Every connection made through a `benchRtc` port and not yet closed by `closeAllConnections`. */
const made = new Set<RtcConnection>();

/** What a watched connection went through, on the `performance.now()` clock. */
export interface ConnectionMarks {
  created: number;
  /** Offerer: `offer()` called. */
  offer?: number;
  /** Answerer: `answer()` called (the offer arrived). */
  answer?: number;
  /** Offerer: `accept()` called (the answer arrived). */
  accept?: number;
  connected?: number;
  /** This side's data channel opened. */
  open?: number;
}

/**
 * The RTC port of `stack` as on a loopback-only host (werift skips loopback unless it is
 * named; wrtc finds it by itself), registering every connection; `marks` gets one entry per
 * connection made.
 */
export function benchRtc(
  stack: RtcStack,
  tuning: Partial<DataChannelTuning> = {},
  marks?: ConnectionMarks[],
): RtcPort {
  const port =
    stack === 'wrtc' ? wrtcRtc({ tuning }) : weriftRtc({ config: WERIFT_LOOPBACK, tuning });
  return {
    ...port, // its codec too
    createConnection: (config) => {
      const inner = port.createConnection(config);
      made.add(inner);
      if (!marks) return inner;
      const mark: ConnectionMarks = { created: performance.now() };
      marks.push(mark);
      return watched(inner, mark);
    },
  };
}

/** Closes every connection made through `benchRtc` ports (idempotent). */
export function closeAllConnections(): void {
  for (const connection of made) connection.close();
  made.clear();
}

function watchOpen(channel: DataChannelLike, mark: ConnectionMarks): DataChannelLike {
  if (channel.readyState === 'open') mark.open ??= performance.now();
  else channel.addEventListener('open', () => (mark.open ??= performance.now()));
  return channel;
}

/** `inner`, with its offer, `connected` and channel open timestamped into `mark`. */
function watched(inner: RtcConnection, mark: ConnectionMarks): RtcConnection {
  inner.onStateChange((state) => {
    if (state === 'connected') mark.connected ??= performance.now();
  });
  return {
    get connectionState() {
      return inner.connectionState;
    },
    get iceConnectionState() {
      return inner.iceConnectionState;
    },
    createDataChannel: (label) => watchOpen(inner.createDataChannel(label), mark),
    offer: () => {
      mark.offer = performance.now();
      return inner.offer();
    },
    answer: (offer) => {
      mark.answer = performance.now();
      return inner.answer(offer);
    },
    accept: (answer) => {
      mark.accept = performance.now();
      return inner.accept(answer);
    },
    addCandidate: (candidate) => inner.addCandidate(candidate),
    localDescription: () => inner.localDescription(),
    remoteDescription: () => inner.remoteDescription(),
    onCandidate: (listener) => inner.onCandidate(listener),
    onDataChannel: (listener) => inner.onDataChannel((ch) => listener(watchOpen(ch, mark))),
    onStateChange: (listener) => inner.onStateChange(listener),
    close: () => inner.close(),
  };
}

/** One side of a raw pair. */
export interface RawSide {
  port: RtcPort;
  connection: RtcConnection;
  channel: DataChannelLike;
  facts: SdpFacts;
}

export interface RawPair {
  a: RawSide;
  b: RawSide;
  close(): void;
}

/** Hands candidates to `connection` once its remote description is set. */
export class CandidateFeed {
  private queue: RtcCandidate[] | null = [];
  constructor(private readonly connection: RtcConnection) {}

  add(candidate: RtcCandidate): void {
    if (this.queue) this.queue.push(candidate);
    else void this.connection.addCandidate(candidate).catch(() => undefined);
  }

  ready(): void {
    const queued = this.queue ?? [];
    this.queue = null;
    for (const candidate of queued) this.add(candidate);
  }
}

function whenOpen(channel: DataChannelLike): Promise<void> {
  if (channel.readyState === 'open') return Promise.resolve();
  return new Promise((resolve) => channel.addEventListener('open', () => resolve()));
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Two connections negotiated directly, with both ends of the data channel open. */
export async function openRawPair(
  portA: RtcPort,
  portB: RtcPort,
  timeoutMs = 20_000,
): Promise<RawPair> {
  const a = portA.createConnection({ iceServers: [] });
  const b = portB.createConnection({ iceServers: [] });
  const close = (): void => {
    a.close();
    b.close();
  };
  try {
    const toA = new CandidateFeed(a);
    const toB = new CandidateFeed(b);
    a.onCandidate((c) => c && toB.add(c));
    b.onCandidate((c) => c && toA.add(c));
    const remoteChannel = new Promise<DataChannelLike>((resolve) => b.onDataChannel(resolve));
    const channelA = a.createDataChannel('bench');
    const answer = await b.answer(await a.offer());
    toB.ready();
    await a.accept(answer);
    toA.ready();
    const channelB = await withTimeout(remoteChannel, timeoutMs, 'remote data channel');
    await withTimeout(Promise.all([whenOpen(channelA), whenOpen(channelB)]), timeoutMs, 'open');
    for (const channel of [channelA, channelB]) {
      if (channel.binaryType !== undefined) channel.binaryType = 'arraybuffer';
    }
    const side = (port: RtcPort, connection: RtcConnection, channel: DataChannelLike): RawSide => ({
      port,
      connection,
      channel,
      facts: sdpFacts(connection.localDescription(), connection.remoteDescription()),
    });
    return { a: side(portA, a, channelA), b: side(portB, b, channelB), close };
  } catch (err) {
    close();
    throw err;
  }
}

/** A data-channel transport over one side of an open raw pair (it owns the connection). */
export function transportOf(
  side: RawSide,
  tuning: Partial<DataChannelTuning> = {},
): DataChannelTransport {
  return new DataChannelTransport({
    channel: side.channel,
    facts: side.facts,
    tuning: { ...side.port.tuning, ...tuning },
    connection: side.connection,
  });
}

/** The largest message the transport would send on this side. */
export function messageBytesOf(side: RawSide): number {
  return Math.min(side.port.tuning.messageBytes, side.facts.maxMessageBytes);
}

/**
 * UDP datagrams the kernel dropped for a full socket receive buffer, over IPv4 and IPv6
 * (`RcvbufErrors` of /proc/net/snmp and `Udp6RcvbufErrors` of /proc/net/snmp6: this network
 * namespace only; the stacks talk over ::1 as well as 127.0.0.1), or NaN where that cannot be read.
 */
export function udpReceiveDrops(): number {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('Udp:'));
    const names = lines[0]?.split(/\s+/) ?? [];
    const values = lines[1]?.split(/\s+/) ?? [];
    const v4 = Number(values[names.indexOf('RcvbufErrors')] ?? Number.NaN);
    const v6 = readFileSync('/proc/net/snmp6', 'utf8')
      .split('\n')
      .find((line) => line.startsWith('Udp6RcvbufErrors'));
    return v4 + (v6 === undefined ? 0 : Number(v6.split(/\s+/)[1]));
  } catch {
    return Number.NaN;
  }
}
