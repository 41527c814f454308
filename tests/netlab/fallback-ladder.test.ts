import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLab, labAvailable, nftLoad, type Lab } from '../support/netns.js';
import type { ManagerChildConfig } from './fixtures/manager-peer-child.js';
import {
  blockRules,
  DIRECT_PORT,
  LabPeer,
  pairedDbs,
  SIGNAL_PORT,
  signalUrl,
  startSignal,
  unblock,
  until,
} from './manager-lab.js';

/*
 * The connection ladder on a real network: two hosts (network namespaces joined by a veth),
 * each running a whole peer in a child process (SQLite, signaling client, WebRTC, direct
 * listener, mesh manager). The signaling server runs on host a. nftables on host b blocks what
 * each case says; the peers must still end synced, over the path the case leaves, and say why.
 */

const CONNECT_MS = 4000;
const labs: Lab[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const lab of labs.splice(0)) await lab.destroy();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

interface Pair {
  lab: Lab;
  a: LabPeer;
  b: LabPeer;
}

async function start(
  rtc: 'werift' | 'wrtc',
  block: string | null,
  listen: Partial<ManagerChildConfig['listen']> = {},
): Promise<Pair> {
  const lab = await createLab({ subnet: '10.78.0' });
  labs.push(lab);
  const dir = mkdtempSync(join(tmpdir(), 'meshsync-ladder-'));
  dirs.push(dir);
  const dbs = await pairedDbs(dir);
  if (block) await nftLoad(lab, lab.b, block);
  await startSignal(lab, lab.a);
  const common = { signal: signalUrl(lab.a), rtc, connectTimeoutMs: CONNECT_MS };
  const a = new LabPeer(lab, lab.a, {
    ...common,
    db: dbs.a,
    listen: { host: lab.a.ip, port: DIRECT_PORT, ...listen },
  });
  const b = new LabPeer(lab, lab.b, {
    ...common,
    db: dbs.b,
    listen: { host: lab.b.ip, port: DIRECT_PORT, ...listen },
  });
  await Promise.all([a.ready(), b.ready()]);
  return { lab, a, b };
}

/** Both hold every record of both, and both keep a session over `transport`. */
async function syncedOver(pair: Pair, transport: string | RegExp, ms = 30_000): Promise<number> {
  const { a, b } = pair;
  let seen = '';
  return until(
    `synced over ${String(transport)}`,
    async () => {
      const [sa, sb] = [await a.peerStatus(b.device), await b.peerStatus(a.device)];
      const ok = (s: Record<string, unknown> | undefined): boolean =>
        s?.state === 'connected' &&
        (typeof transport === 'string'
          ? s.transport === transport
          : transport.test(String(s.transport)));
      const counts = [await a.count('t'), await b.count('t')];
      seen = JSON.stringify({ a: sa, b: sb, counts });
      return ok(sa) && ok(sb) && counts[0] === 20 && counts[1] === 20;
    },
    ms,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}\nlast seen: ${seen}\na: ${a.stderr}\nb: ${b.stderr}`);
  });
}

async function fill(pair: Pair): Promise<void> {
  await pair.a.ask({ op: 'fill', collection: 't', prefix: 'a', count: 10 });
  await pair.b.ask({ op: 'fill', collection: 't', prefix: 'b', count: 10 });
}

if (process.env.MESHSYNC_REQUIRE_NETLAB === '1' && !labAvailable()) {
  it('a network lab can be made (MESHSYNC_REQUIRE_NETLAB)', () => {
    throw new Error('no network lab: see tests/netlab/stray-traffic.test.ts');
  });
}

describe.skipIf(!labAvailable())('the connection ladder across two hosts', () => {
  it('UDP dropped: werift cannot connect, the pair falls back to WebSocket and says why', async () => {
    const pair = await start('werift', blockRules());
    await fill(pair);
    await syncedOver(pair, 'websocket');
    // The side whose climb made the session says why; the other says who started it.
    const whys = [
      String((await pair.a.peerStatus(pair.b.device))?.why),
      String((await pair.b.peerStatus(pair.a.device))?.why),
    ];
    expect(whys.join(' | ')).toMatch(/webrtc: (TIMEOUT|CONNECT_FAILED), .*websocket: connected/);
  }, 90_000);

  it('UDP dropped: wrtc ends synced too (over ICE-TCP or a fallback)', async () => {
    const pair = await start('wrtc', blockRules());
    await fill(pair);
    await syncedOver(pair, /^(webrtc|websocket)$/);
  }, 90_000);

  it(
    'UDP and all TCP but the direct (and signaling) port dropped: WebSocket within the ' +
      'connect timeout + 1 s; lifting the block moves the pair back to WebRTC',
    async () => {
      const pair = await start('werift', blockRules([DIRECT_PORT, SIGNAL_PORT]));
      await fill(pair);
      await syncedOver(pair, 'websocket');
      // The climb that made the session, as the climbing peer recorded it: from its first rung
      // (WebRTC, given up after the connect timeout) to the WebSocket session being ready.
      const climbs = [
        await pair.a.peerStatus(pair.b.device),
        await pair.b.peerStatus(pair.a.device),
      ]
        .filter((s) => s?.startedBy === 'us')
        .map(
          (s) => s!.attempts as Array<{ path: string; at: number; ms: number; outcome: string }>,
        );
      const climb = climbs.find((c) => c.at(-1)?.path === 'websocket')!;
      const last = climb.at(-1)!;
      const ms = last.at + last.ms - climb[0]!.at;
      console.log(`netlab: ${JSON.stringify(climb)}; WebSocket ready ${ms} ms into the climb`);
      expect(climb[0]).toMatchObject({ path: 'webrtc', outcome: 'failed' });
      expect(last.outcome).toBe('connected');
      expect(ms).toBeLessThanOrEqual(CONNECT_MS + 1000);
      const whys = [
        String((await pair.a.peerStatus(pair.b.device))?.why),
        String((await pair.b.peerStatus(pair.a.device))?.why),
      ];
      expect(whys.join(' | ')).toMatch(/webrtc: (TIMEOUT|CONNECT_FAILED), .*websocket: connected/);
      await unblock(pair.lab, pair.lab.b);
      await until('back on WebRTC', async () => {
        const [sa, sb] = [
          await pair.a.peerStatus(pair.b.device),
          await pair.b.peerStatus(pair.a.device),
        ];
        return sa?.transport === 'webrtc' && sb?.transport === 'webrtc';
      });
      await pair.b.ask({ op: 'put', collection: 't', id: 'after', value: { over: 'webrtc' } });
      await until('the new record over WebRTC', async () => (await pair.a.count('t')) === 21);
    },
    120_000,
  );

  it('WebSocket upgrades refused, only plain HTTP POSTs pass: synced over HTTP', async () => {
    // Both listeners refuse upgrades, as a proxy in front of them would.
    const pair = await start('werift', blockRules([DIRECT_PORT, SIGNAL_PORT]), {
      websocket: false,
    });
    await fill(pair);
    await syncedOver(pair, 'http');
    for (const [self, other] of [
      [pair.a, pair.b],
      [pair.b, pair.a],
    ] as const) {
      const why = String((await self.peerStatus(other.device))?.why);
      // Either this side climbed (WebRTC and WebSocket failed, HTTP worked), or the other did.
      expect(why).toMatch(/websocket: [A-Z_]+, .*http: connected|started by the other device/);
    }
  }, 90_000);
});
