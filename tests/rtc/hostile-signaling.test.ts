import type { AddressInfo } from 'node:net';
import nacl from 'tweetnacl';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { Peer } from '../../peer/peer.js';
import type { RtcConnector } from '../../peer/rtc/rtc-connector.js';
import type { RtcConnection } from '../../peer/rtc/rtc-port.js';
import { toBase32 } from '../../shared/crypto/bytes.js';
import { generateIdentity } from '../../shared/crypto/identity.js';
import type { DeviceId } from '../../shared/ids.js';
import { openJsonSignal, sealJsonSignal, SignalOpener } from '../../shared/secure/signal-seal.js';
import { parseRtcSignal, type RtcSignal } from '../../shared/signaling/rtc-signals.js';
import type { SignalingServer } from '../../signaling/server.js';
import { SignalingTestbed, until } from '../peer-signaling/setup.js';
import { rejectionCode } from '../support/codes.js';
import { testRtc } from '../support/rtc-pair.js';
import { joinedConnector, pairedMeshes } from './setup.js';

/*
 * A hostile signaling server: a proxy in front of the real one (joins, challenges and presence
 * are genuine) that swaps the signals it relays for its own. Both devices must refuse it with
 * AUTH_MITM, and no connection may open. (That the DTLS-fingerprint binding refuses a relay at
 * the transport level, over real WebRTC, is shown by "a relay between two real ... connections
 * is caught (AUTH_MITM)" in tests/node/secure-webrtc.test.ts.) Only inside a loopback-only
 * network namespace (`npm test` makes one).
 */
const isolated = process.env.MESHSYNC_ISOLATED === '1';

/** A genuine signal in transit from `from` to `to`. */
interface Transit {
  room: string;
  from: DeviceId;
  to: DeviceId;
  data: string;
}

/** Relays every message both ways, except signals: `rewrite` decides what is delivered. */
class MitmProxy {
  rewrite: (signal: Transit) => Promise<void> | void = (s) => this.deliver(s);
  private readonly sockets = new Map<DeviceId, WebSocket>();
  private queue = Promise.resolve();

  private constructor(
    private readonly wss: WebSocketServer,
    private readonly upstream: string,
  ) {
    wss.on('connection', (down) => this.link(down));
  }

  static async start(upstream: string): Promise<MitmProxy> {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss.once('listening', r));
    return new MitmProxy(wss, upstream);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}/signal`;
  }

  /** Sends `data` to `to` as a signal the server stamped with `from`. */
  deliver({ room, from, to, data }: Transit): void {
    this.sockets.get(to)?.send(JSON.stringify({ t: 'signal', room, from, data }));
  }

  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise((r) => this.wss.close(r));
  }

  private link(down: WebSocket): void {
    const up = new WebSocket(this.upstream);
    const pending: Array<[RawData, boolean]> = [];
    let device: DeviceId | undefined;
    up.on('open', () => pending.splice(0).forEach(([d, binary]) => up.send(d, { binary })));
    down.on('message', (d, binary) =>
      up.readyState === up.OPEN ? up.send(d, { binary }) : pending.push([d, binary]),
    );
    up.on('message', (d, binary) => {
      const text = !binary && Buffer.isBuffer(d) ? d.toString('utf8') : null;
      const message = text === null ? null : (JSON.parse(text) as Record<string, string>);
      if (message?.t === 'joined') this.sockets.set((device = message.self as DeviceId), down);
      if (message?.t !== 'signal' || device === undefined) return down.send(d, { binary });
      const transit = {
        room: message.room!,
        from: message.from as DeviceId,
        to: device,
        data: message.data!,
      };
      this.queue = this.queue.then(() => this.rewrite(transit)).catch(() => undefined);
    });
    up.on('close', () => down.close());
    down.on('close', () => up.close());
    up.on('error', () => down.terminate());
    down.on('error', () => up.terminate());
  }
}

/** The attacker's own WebRTC connections and signal forgeries (it holds no member's device key). */
class Attacker {
  readonly identity = generateIdentity((n) => nacl.randomBytes(n));
  readonly states: string[] = [];
  private readonly legs: RtcConnection[] = [];

  constructor(
    private readonly proxy: MitmProxy,
    /** The mesh secret it knows (a random one when it does not know the real one). */
    readonly secret: Uint8Array,
  ) {}

  /** A WebRTC connection of the attacker's own (werift), its states recorded. */
  leg(): RtcConnection {
    const pc = testRtc('werift').createConnection({ iceServers: [] });
    pc.onStateChange((state) => this.states.push(state));
    this.legs.push(pc);
    return pc;
  }

  /** Delivers `signal` to `to` as if from `from`: sealed under `secret`, signed by the attacker. */
  forge(room: string, from: DeviceId, to: DeviceId, signal: RtcSignal): void {
    const data = sealJsonSignal(this.secret, this.identity, to, signal);
    this.proxy.deliver({ room, from, to, data });
  }

  close(): void {
    for (const pc of this.legs.splice(0)) pc.close();
  }
}

/** The SDP of `pc` once it has gathered its candidates (so no trickling is needed). */
async function gathered(pc: RtcConnection, make: () => Promise<unknown>): Promise<string> {
  const done = new Promise<void>((resolve) => pc.onCandidate((c) => c === null && resolve()));
  await make();
  await done;
  return pc.localDescription()!.sdp;
}

const attemptId = (): string => toBase32(nacl.randomBytes(10)).toLowerCase();

interface Seen {
  sessions: DeviceId[];
  failed: string[];
  reasons: string[];
}

/** What a connector reported: sessions opened and failures, by device and code. */
function watch(connector: RtcConnector): Seen {
  const seen: Seen = { sessions: [], failed: [], reasons: [] };
  connector.on('session', ({ device }) => seen.sessions.push(device));
  connector.on('failed', ({ device, error }) => {
    seen.failed.push(`${device} ${error.code}`);
    seen.reasons.push(error.message);
  });
  return seen;
}

const peers: Peer[] = [];
const connectors: RtcConnector[] = [];
let bed: SignalingTestbed;
let server: SignalingServer;
let proxy: MitmProxy;
let attacker: Attacker | undefined;

beforeEach(async () => {
  bed = new SignalingTestbed();
  server = await bed.server();
  proxy = await MitmProxy.start(server.url);
});

afterEach(async () => {
  for (const c of connectors.splice(0)) c.stop();
  attacker?.close();
  attacker = undefined;
  await bed.cleanup();
  await proxy.close();
  for (const peer of peers.splice(0)) await peer.stop();
});

/** Paired devices behind the proxy: `a` offers (smaller id) on werift, `b` answers on wrtc. */
async function victims() {
  const m = await pairedMeshes(peers);
  const [a, b] = m.a.device < m.b.device ? [m.a, m.b] : [m.b, m.a];
  const ca = await joinedConnector(bed, proxy.url, a, 'werift', { connectTimeoutMs: 5000 });
  const cb = await joinedConnector(bed, proxy.url, b, 'wrtc', { connectTimeoutMs: 5000 });
  connectors.push(ca, cb);
  return { a, b, ca, cb, seenA: watch(ca), seenB: watch(cb) };
}

/** Both sides refused the forgeries with AUTH_MITM for `reason`, and nothing connected. */
async function expectRefused(
  v: Awaited<ReturnType<typeof victims>>,
  connecting: Array<Promise<unknown>>,
  reason: RegExp,
): Promise<void> {
  for (const code of await Promise.all(connecting.map(rejectionCode)))
    expect(code).toBe('AUTH_MITM');
  await until(() => v.seenA.failed.length > 0 && v.seenB.failed.length > 0);
  await new Promise((r) => setTimeout(r, 500)); // whatever else the attacker sent has arrived
  expect(new Set(v.seenA.failed)).toEqual(new Set([`${v.b.device} AUTH_MITM`]));
  expect(new Set(v.seenB.failed)).toEqual(new Set([`${v.a.device} AUTH_MITM`]));
  for (const message of [...v.seenA.reasons, ...v.seenB.reasons]) expect(message).toMatch(reason);
  expect([...v.seenA.sessions, ...v.seenB.sessions]).toEqual([]);
  expect(v.ca.session(v.b.device)).toBeUndefined();
  expect(v.cb.session(v.a.device)).toBeUndefined();
  expect(attacker?.states ?? []).not.toContain('connected');
}

describe.skipIf(!isolated)('WebRTC through a hostile signaling server', () => {
  it('(a) without the mesh secret: its own offer and answer do not open; both refuse (AUTH_MITM)', async () => {
    const v = await victims();
    const mallory = (attacker = new Attacker(proxy, nacl.randomBytes(32)));
    let started = false;
    proxy.rewrite = async ({ room, from, to }) => {
      if (started) return; // it cannot read what passes: every genuine signal is dropped
      started = true;
      const toB = mallory.leg();
      toB.createDataChannel('meshsync');
      const offer = await gathered(toB, () => toB.offer());
      // An answer needs an offer: one from a throwaway connection, closed at once.
      const dummy = mallory.leg();
      dummy.createDataChannel('meshsync');
      const dummyOffer = await dummy.offer();
      dummy.close();
      const toA = mallory.leg();
      const answer = await gathered(toA, () => toA.answer(dummyOffer));
      const a = attemptId();
      mallory.forge(room, from, to, { v: 1, t: 'offer', a, sdp: offer });
      mallory.forge(room, to, from, { v: 1, t: 'answer', a, sdp: answer });
    };
    await expectRefused(v, [v.ca.connect(v.b.device)], /altered or forged.*does not open/);
  });

  it('(b) with the leaked mesh secret but no device key: a full man in the middle is refused (AUTH_MITM)', async () => {
    const v = await victims();
    const mallory = (attacker = new Attacker(proxy, v.a.meshSecret));
    const openers = new Map<DeviceId, SignalOpener>();
    let toA: RtcConnection | undefined; // faces the offerer
    let toB: RtcConnection | undefined; // faces the answerer
    proxy.rewrite = async (transit) => {
      const { room, from, to, data } = transit;
      if (!openers.has(to)) openers.set(to, new SignalOpener(mallory.secret, to));
      const signal = parseRtcSignal(openJsonSignal(openers.get(to)!, data).value);
      const facing = from === v.a.device ? toA : toB;
      switch (signal.t) {
        case 'knock': // let B ask: A then offers, and that offer is what it takes over
          return proxy.deliver(transit);
        case 'offer': {
          const legA = (toA = mallory.leg());
          const answer = await gathered(legA, () =>
            legA.answer({ type: 'offer', sdp: signal.sdp }),
          );
          const legB = (toB = mallory.leg());
          legB.createDataChannel('meshsync');
          const offer = await gathered(legB, () => legB.offer());
          mallory.forge(room, from, to, { v: 1, t: 'offer', a: signal.a, sdp: offer });
          mallory.forge(room, to, from, { v: 1, t: 'answer', a: signal.a, sdp: answer });
          return;
        }
        case 'answer': // only if B took the forged offer
          return facing?.accept({ type: 'answer', sdp: signal.sdp });
        case 'candidates':
          for (const c of signal.c) if (c.candidate) await facing?.addCandidate(c);
          return;
        case 'bye':
          return;
      }
    };
    // Both ask at once: B's knock passes, A's offer is taken over; both attempts are refused.
    await expectRefused(
      v,
      [v.ca.connect(v.b.device), v.cb.connect(v.a.device)],
      new RegExp(`is signed by ${mallory.identity.device}`),
    );
    expect(toA && toB).toBeTruthy(); // it did run its two legs
  });

  it('(c) replaying genuine signals of an earlier connection is refused (AUTH_MITM)', async () => {
    const v = await victims();
    const recorded: Transit[] = [];
    proxy.rewrite = (transit) => {
      recorded.push(transit);
      proxy.deliver(transit);
    };
    const first = await v.ca.connect(v.b.device);
    await until(() => v.cb.session(v.a.device) !== undefined);
    first.close('again');
    await until(() => !v.ca.session(v.b.device) && !v.cb.session(v.a.device));
    v.seenA.sessions.length = v.seenB.sessions.length = 0;
    // The old offer (A to B) and answer (B to A) in place of the new ones; the rest is dropped.
    const oldOffer = recorded.find((s) => s.from === v.a.device)!;
    const oldAnswer = recorded.find((s) => s.from === v.b.device)!;
    let replayed = false;
    proxy.rewrite = () => {
      if (replayed) return;
      replayed = true;
      proxy.deliver(oldOffer);
      proxy.deliver(oldAnswer);
    };
    await expectRefused(v, [v.ca.connect(v.b.device)], /altered or forged.*replayed/);
  });
});
