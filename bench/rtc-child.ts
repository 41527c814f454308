/**
 * Child process of the two-process rtc measurement (`rtc-two-process.ts`): the receiving peer B
 * on wrtc or werift (argv), driven by JSON lines on stdin, answering with JSON lines on stdout.
 *   {cmd:'sync'}                  a fresh, empty B (MemoryStore) and an answering RtcAttempt;
 *   {cmd:'signal', signal}        A's RtcSignal for that attempt; B's go out as {ev:'signal'};
 *                                 once the session is ready: {ev:'ready'};
 *   {cmd:'pull', count}           B pulls everything: {ev:'done', ms, rows, bytes, cpuMs};
 *   {cmd:'end'}                   closes B's session, transport and peer: {ev:'ended'};
 *   {cmd:'raw', bytes}            a bare connection whose channel counts bytes;
 *   {cmd:'rawsig', ...}           its offer / candidates; B's answer and candidates go out as
 *                                 {ev:'rawsig'}; {ev:'raw-open'} when the channel opens,
 *                                 {ev:'raw-done', ms, cpuMs} once `bytes` arrived;
 *   {cmd:'raw-end'}               closes it: {ev:'raw-ended'}.
 * Exits 0 when stdin ends, 1 on any failure (after {ev:'error'}).
 * Usage: node --expose-gc --import tsx bench/rtc-child.ts [wrtc|werift]
 */
import { createInterface } from 'node:readline';
import { createPeer, type Peer } from '../peer/peer.js';
import type { DataChannelTransport } from '../peer/rtc/data-channel-transport.js';
import { RtcAttempt } from '../peer/rtc/rtc-attempt.js';
import type { DataChannelLike, RtcConnection } from '../peer/rtc/rtc-port.js';
import { MemoryStore } from '../peer/store/memory-store.js';
import type { SyncSession } from '../peer/sync/session.js';
import type { RtcSignal } from '../shared/signaling/rtc-signals.js';
import { silentLogger } from '../shared/log.js';
import { tuningOf } from './rtc-config.js';
import { benchRtc, closeAllConnections, type RtcStack } from './rtc-pair.js';
import { collectGarbage } from './table.js';
import { ATTEMPT_ID, CandidateFeed, type ChildCommand, type RawSignal } from './rtc-two-process.js';

const stack: RtcStack = process.argv[2] === 'werift' ? 'werift' : 'wrtc';
const port = benchRtc(stack, tuningOf(stack));

function emit(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

function fail(err: unknown): never {
  emit({ ev: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  closeAllConnections();
  process.exit(1);
}

interface SyncState {
  peer: Peer;
  attempt: RtcAttempt;
  transport?: DataChannelTransport;
  session?: SyncSession;
}

interface RawState {
  connection: RtcConnection;
  feed: CandidateFeed;
  channel?: DataChannelLike;
}

let sync: SyncState | null = null;
let raw: RawState | null = null;

async function startSync(): Promise<void> {
  const peer = await createPeer({ store: new MemoryStore(), logger: silentLogger });
  const attempt = new RtcAttempt({
    id: ATTEMPT_ID,
    device: 'a',
    initiator: false,
    rtc: port,
    iceServers: [],
    timeoutMs: 20_000,
    send: (signal) => {
      emit({ ev: 'signal', signal });
      return Promise.resolve();
    },
  });
  const state: SyncState = { peer, attempt };
  sync = state;
  attempt.opened
    .then(async (transport) => {
      state.transport = transport;
      state.session = peer.connect(transport, { autoPull: false });
      await state.session.whenReady();
      emit({ ev: 'ready' });
    })
    .catch(fail);
}

async function onSignal(signal: RtcSignal): Promise<void> {
  const attempt = sync?.attempt;
  if (!attempt) throw new Error('signal without a sync attempt');
  if (signal.t === 'offer') await attempt.onOffer(signal.sdp);
  else if (signal.t === 'candidates') await attempt.onCandidates(signal.c);
  else if (signal.t === 'bye') throw new Error(`A gave up: ${signal.reason}`);
}

async function pull(count: number): Promise<void> {
  const session = sync?.session;
  if (!session) throw new Error('pull before the session is ready');
  const cpu = process.cpuUsage();
  const start = performance.now();
  const result = await session.pull();
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  if (result.rows < count) throw new Error(`B received ${result.rows} rows, expected ${count}`);
  emit({
    ev: 'done',
    ms,
    rows: result.rows,
    bytes: result.bytes,
    cpuMs: (used.user + used.system) / 1000,
    rssMb: process.memoryUsage().rss / 2 ** 20,
  });
}

async function endSync(): Promise<void> {
  const state = sync;
  sync = null;
  if (state) {
    state.session?.close('bench done');
    state.transport?.close('bench done');
    state.attempt.opened.then(
      (t) => t.close('bench done'),
      () => undefined,
    );
    await state.peer.stop();
  }
  // B's records are garbage now: collect them before the next run (started with --expose-gc).
  collectGarbage();
  emit({ ev: 'ended' });
}

function startRaw(bytes: number): void {
  const connection = port.createConnection({ iceServers: [] });
  const state: RawState = { connection, feed: new CandidateFeed(connection) };
  raw = state;
  connection.onCandidate((c) => c && emit({ ev: 'rawsig', t: 'candidate', c }));
  connection.onDataChannel((channel) => {
    state.channel = channel;
    if (channel.binaryType !== undefined) channel.binaryType = 'arraybuffer';
    let received = 0;
    let first = 0;
    let cpu = process.cpuUsage();
    let reported = false;
    channel.addEventListener('message', (event) => {
      if (received === 0) {
        first = performance.now();
        cpu = process.cpuUsage();
      }
      received += (event as { data?: { byteLength?: number } }).data?.byteLength ?? 0;
      if (received < bytes || reported) return;
      reported = true;
      const used = process.cpuUsage(cpu);
      const cpuMs = (used.user + used.system) / 1000;
      emit({ ev: 'raw-done', ms: performance.now() - first, received, cpuMs });
    });
    const opened = (): void => emit({ ev: 'raw-open' });
    if (channel.readyState === 'open') opened();
    else channel.addEventListener('open', opened);
  });
}

async function onRawSignal(signal: RawSignal): Promise<void> {
  const state = raw;
  if (!state) throw new Error('raw signal without a raw connection');
  if (signal.t === 'offer') {
    const answer = await state.connection.answer({ type: 'offer', sdp: signal.sdp });
    emit({ ev: 'rawsig', t: 'answer', sdp: answer.sdp });
    state.feed.ready();
  } else if (signal.t === 'candidate') {
    state.feed.add(signal.c);
  }
}

function endRaw(): void {
  raw?.channel?.close();
  raw?.connection.close();
  raw = null;
  collectGarbage();
  emit({ ev: 'raw-ended' });
}

async function handle(command: ChildCommand): Promise<void> {
  switch (command.cmd) {
    case 'sync':
      return startSync();
    case 'signal':
      return onSignal(command.signal);
    case 'pull':
      // Not awaited: the lines after it must not wait for the pull.
      void pull(command.count).catch(fail);
      return;
    case 'end':
      return endSync();
    case 'raw':
      return startRaw(command.bytes);
    case 'rawsig':
      return onRawSignal(command);
    case 'raw-end':
      return endRaw();
  }
}

let chain = Promise.resolve();
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (!line.trim()) return;
  const command = JSON.parse(line) as ChildCommand;
  chain = chain.then(() => handle(command)).catch(fail);
});
lines.on('close', () => {
  void chain.then(async () => {
    closeAllConnections();
    if (sync) await sync.peer.stop();
    process.exit(0);
  });
});
