/** The signaling benchmark's tables. */
import { DEFAULT_SIGNALING_LIMITS } from '../signaling/limits.js';
import { percentile, type ServerKind } from './signaling-load.js';
import {
  CONCURRENCY,
  COUNTS,
  LONG,
  RATE,
  RELAY,
  RUNS,
  SIGNAL,
  TARGET,
} from './signaling-config.js';
import { formatInt, formatMs, formatRatio, median, printTable } from './table.js';

export const MIB = 2 ** 20;

/** Each measured run's p50 and p99, and every latency of every run. */
export interface Latencies {
  p50: number[];
  p99: number[];
  all: Float64Array[];
}

/** All runs' latencies together, sorted. */
export function pooled(latencies: Latencies): Float64Array {
  const all = new Float64Array(latencies.all.reduce((n, run) => n + run.length, 0));
  let at = 0;
  for (const run of latencies.all) {
    all.set(run, at);
    at += run.length;
  }
  return all.sort();
}

export interface Level {
  kind: ServerKind;
  clients: number;
  /** Connect + join of all `clients` (meshsync: the sum of its ramp steps). */
  connectMs: number;
  step: { clients: number; ms: number; serverCpuMs: number; clientCpuMs: number };
  signal: Latencies;
  relay: Latencies;
  sent: number;
  lost: number;
  rssJoined: number;
  rssAfter: number;
  rssPeak: number;
  /** The server's CPU time over wall time in the measured runs (1 = one core). */
  cpuShare: number;
  /** Latencies of the long window (at the largest count only), sorted. */
  long: Float64Array | null;
}

export const mib = (bytes: number): string => formatInt(bytes / MIB);

export function report(
  levels: readonly Level[],
  idle: Record<ServerKind, number>,
  crypto: { verifyMs: number; nativeMs: number; signMs: number },
  notes: readonly string[],
): void {
  const med = (values: number[]): string => formatMs(median(values));
  printTable(
    `signaling: clients in pairs (a room each), ${formatInt(RATE)} msgs/s in all: signals of ${SIGNAL.size} ` +
      `base64url chars for ${SIGNAL.windowMs / 1000} s, then ${RELAY.size} B relay frames for ` +
      `${RELAY.windowMs / 1000} s; latency medians of ${RUNS} runs' p50/p99 after 1 warm-up`,
    [
      'clients',
      'server',
      'signal p50 ms',
      'signal p99 ms',
      'relay p50 ms',
      'relay p99 ms',
      'RSS joined MiB',
      'RSS after load MiB',
      'peak RSS MiB',
      'server CPU %',
      'connect+join s',
      'sent',
      'lost',
    ],
    levels.map((l) => [
      formatInt(l.clients),
      l.kind === 'baseline' ? 'bare ws (baseline)' : 'meshsync',
      med(l.signal.p50),
      med(l.signal.p99),
      med(l.relay.p50),
      med(l.relay.p99),
      mib(l.rssJoined),
      mib(l.rssAfter),
      mib(l.rssPeak),
      (l.cpuShare * 100).toFixed(0),
      formatMs(l.connectMs / 1000),
      formatInt(l.sent),
      formatInt(l.lost),
    ]),
  );
  const runs = (values: number[]): string => values.map(formatMs).join(', ');
  for (const l of levels) {
    console.log(
      `${formatInt(l.clients)} ${l.kind} runs: signal p99 ms [${runs(l.signal.p99)}], ` +
        `relay p99 ms [${runs(l.relay.p99)}]`,
    );
  }
  const tail = (latencies: Latencies): string[] => {
    const all = pooled(latencies);
    return [0.99, 0.999, 1].map((p) => formatMs(percentile(all, p)));
  };
  printTable(
    `signaling: tail latency, the ${RUNS} measured runs pooled (a stall hits one run: the medians above hide it)`,
    [
      'clients',
      'server',
      'signal p99 ms',
      'signal p99.9 ms',
      'signal max ms',
      'relay p99 ms',
      'relay p99.9 ms',
      'relay max ms',
    ],
    levels.map((l) => [
      formatInt(l.clients),
      l.kind === 'baseline' ? 'bare ws (baseline)' : 'meshsync',
      ...tail(l.signal),
      ...tail(l.relay),
    ]),
  );
  const longRows = levels.filter((l) => l.long !== null);
  if (LONG && longRows.length > 0) {
    printTable(
      `signaling: one ${LONG.windowMs / 1000} s window of signals at ${formatInt(longRows[0]!.clients)} clients ` +
        `(spans one heartbeat round of the meshsync server: a ping to every client every ` +
        `${DEFAULT_SIGNALING_LIMITS.heartbeatMs / 1000} s)`,
      ['server', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'messages'],
      longRows.map((l) => [
        l.kind === 'baseline' ? 'bare ws (baseline)' : 'meshsync',
        ...[0.5, 0.99, 0.999, 1].map((p) => formatMs(percentile(l.long!, p))),
        formatInt(l.long!.length),
      ]),
    );
  }
  console.log(
    `idle server RSS (no clients): meshsync ${mib(idle.meshsync)} MiB, bare ws ${mib(idle.baseline)} MiB`,
  );

  const pairsOf = (kind: ServerKind) => levels.filter((l) => l.kind === kind);
  const rows = pairsOf('meshsync').map((m) => {
    const b = pairsOf('baseline').find((l) => l.clients === m.clients)!;
    const ratio = (x: number[], y: number[]): string => formatRatio(median(x) / median(y));
    const perClient = (l: Level): string =>
      ((l.rssJoined - idle[l.kind]) / l.clients / 1024).toFixed(1);
    return [
      formatInt(m.clients),
      ratio(m.signal.p50, b.signal.p50),
      ratio(m.signal.p99, b.signal.p99),
      ratio(m.relay.p50, b.relay.p50),
      ratio(m.relay.p99, b.relay.p99),
      formatRatio(m.rssAfter / b.rssAfter),
      perClient(m),
      perClient(b),
    ];
  });
  printTable(
    'signaling: meshsync against the bare ws baseline (ratios of the medians above)',
    [
      'clients',
      'signal p50',
      'signal p99',
      'relay p50',
      'relay p99',
      'RSS after load',
      'meshsync KiB/client',
      'baseline KiB/client',
    ],
    rows,
  );

  const steps = pairsOf('meshsync');
  printTable(
    `signaling: ramp-up (${CONCURRENCY} connects/joins in flight; each server grows from one count to the next)`,
    [
      'server',
      'clients',
      'added',
      'seconds',
      'joins/s',
      'server CPU ms/join',
      'client CPU ms/join',
    ],
    [...pairsOf('baseline'), ...steps].map((l) => [
      l.kind === 'baseline' ? 'bare ws (connect only)' : 'meshsync (connect + join)',
      formatInt(l.clients),
      formatInt(l.step.clients),
      formatMs(l.step.ms / 1000),
      formatInt(l.step.clients / (l.step.ms / 1000)),
      formatMs(l.step.serverCpuMs / l.step.clients),
      formatMs(l.step.clientCpuMs / l.step.clients),
    ]),
  );
  console.log(
    `join crypto in this process (median): 2 verifies per join through the shared verify ` +
      `functions' default (tweetnacl) ${formatMs(crypto.verifyMs)} ms (at most ` +
      `${formatInt(1000 / crypto.verifyMs)} joins/s on one core), with node:crypto ` +
      `${formatMs(crypto.nativeMs)} ms (${formatInt(1000 / crypto.nativeMs)} joins/s); the client's ` +
      `2 signs (tweetnacl) ${formatMs(crypto.signMs)} ms`,
  );

  const top = steps[steps.length - 1]!;
  const p99 = median(top.signal.p99);
  const relayP99 = median(top.relay.p99);
  const pooledP99 = percentile(pooled(top.signal), 0.99);
  const rss = Math.max(top.rssJoined, top.rssAfter);
  const atTarget = top.clients >= TARGET.clients;
  const met = (ok: boolean): string => (atTarget ? (ok ? 'yes' : 'NO') : 'n/a (quick)');
  printTable(
    `signaling: targets (at ${formatInt(top.clients)} clients)`,
    ['target', 'measured', 'met'],
    [
      [`clients >= ${formatInt(TARGET.clients)}`, formatInt(top.clients), met(atTarget)],
      [`signal relay p99 <= ${TARGET.p99Ms} ms`, formatMs(p99), met(p99 <= TARGET.p99Ms)],
      [
        `signal relay p99 <= ${TARGET.p99Ms} ms, runs pooled`,
        formatMs(pooledP99),
        met(pooledP99 <= TARGET.p99Ms),
      ],
      ...(top.long
        ? [
            [
              `signal relay p99 <= ${TARGET.p99Ms} ms, ${LONG!.windowMs / 1000} s window`,
              formatMs(percentile(top.long, 0.99)),
              met(percentile(top.long, 0.99) <= TARGET.p99Ms),
            ],
          ]
        : []),
      [`relay frame p99 <= ${TARGET.p99Ms} ms`, formatMs(relayP99), met(relayP99 <= TARGET.p99Ms)],
      [
        `server RSS <= ${TARGET.rssBytes / 1e6} MB (${mib(TARGET.rssBytes)} MiB)`,
        `${mib(rss)} MiB`,
        met(rss <= TARGET.rssBytes),
      ],
      ['messages lost = 0', formatInt(top.lost), met(top.lost === 0)],
    ],
  );
  console.log(
    [
      'notes:',
      `- the meshsync server runs with the default limits except maxConnectionsPerIp (32 -> ` +
        `${formatInt(COUNTS[COUNTS.length - 1]!)}): every bench client connects from 127.0.0.1; ` +
        `each client sends at most ${RATE / COUNTS[0]!} msgs/s, far below messagesPerSecond (100)`,
      '- both servers are esbuild bundles run by plain node (no TypeScript loader in their RSS); ' +
        'RSS is VmRSS from /proc, peak is VmHWM (includes the ramp-up); MiB = 2^20 bytes',
      '- one server process per kind, the baseline first, never both at once; each keeps its clients ' +
        'from one count to the next and adds the new ones (connect+join s: all steps together)',
      `- RSS after load: after the ${RUNS} runs${LONG ? ' (and the long window at the largest count)' : ''}; ` +
        'KiB/client: (RSS joined - idle RSS) / clients',
      "- clients join through the shared roomJoinProof/deviceJoinProof with tweetnacl's sign swapped " +
        "for node:crypto's (the same deterministic signatures, checked), so that this process's " +
        'signing (tweetnacl: see the join crypto line) does not limit the ramp-up',
      '- server CPU %: its CPU time over wall time during the measured runs (100 = one core)',
      '- latency = arrival in this process minus the send time carried in the message (same clock); ' +
        'lost = sent minus received within 5 s of the end of each phase',
      ...notes.map((n) => `- ${n}`),
    ].join('\n'),
  );
}
