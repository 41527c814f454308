/**
 * WebRTC setup time through a real signaling server on 127.0.0.1: two paired mesh devices, each
 * with an `RtcConnector` on its stack; the offerer calls `connect()`. Timed from that call to
 * its data channel open (seen through a watching RTC port), to the authenticated session, and to
 * the first completed `sync()` (pushing a few records to the answerer).
 */
import { Mesh } from '../peer/mesh/mesh.js';
import { nodeWebSocket } from '../peer/node/web-socket.js';
import { createPeer, type Peer } from '../peer/peer.js';
import { RtcConnector } from '../peer/rtc/rtc-connector.js';
import type { RtcPort } from '../peer/rtc/rtc-port.js';
import { SignalingClient } from '../peer/signaling/signaling-client.js';
import { MemoryStore } from '../peer/store/memory-store.js';
import { silentLogger } from '../shared/log.js';
import { roomKeys } from '../shared/secure/room.js';
import { createSignalingServer, type SignalingServer } from '../signaling/server.js';
import { COLLECTION } from './fixture.js';
import { makeTasks } from './records.js';
import { benchRtc, type ConnectionMarks, type RtcStack } from './rtc-pair.js';
import { joinMember } from './rtc-sources.js';

/** Milliseconds from the offerer's `connect()` call to each step. */
export interface SetupSample {
  /** The offerer calls `offer()`. */
  offerMs: number;
  /** The answerer calls `answer()`: the sealed offer came through the server. */
  answerMs: number;
  /** The offerer calls `accept()`: the sealed answer came back. */
  acceptMs: number;
  /** The offerer's connection is `connected` (ICE and DTLS done). */
  connectedMs: number;
  /** The offerer's data channel is open. */
  openMs: number;
  /** `connect()` resolved: the secure handshake authenticated both devices. */
  sessionMs: number;
  /** The first `sync()` resolved. */
  syncMs: number;
}

function since(start: number, at: number | undefined, what: string): number {
  if (at === undefined) throw new Error(`rtc setup: no ${what} seen`);
  return at - start;
}

/** A signaling server on loopback for the setup runs. */
export function setupServer(): Promise<SignalingServer> {
  return createSignalingServer({
    port: 0,
    host: '127.0.0.1',
    limits: { maxConnectionsPerIp: 1000 },
    shutdownGraceMs: 200,
    shutdownRetryMs: 0,
  });
}

/** One device's connector, its signaling client joined to the mesh's room. */
async function connector(
  url: string,
  mesh: Mesh,
  rtc: RtcPort,
  clients: SignalingClient[],
): Promise<RtcConnector> {
  const signaling = new SignalingClient({
    url,
    identity: mesh.identity,
    webSocket: nodeWebSocket,
  });
  clients.push(signaling);
  await signaling.join(roomKeys(mesh.meshSecret));
  return new RtcConnector({ mesh, signaling, rtc, sync: { autoPull: false } });
}

/** One setup, offerer on `offerer`, answerer on `answerer`, `records` pushed in the first sync. */
export async function setupOnce(
  url: string,
  offerer: RtcStack,
  answerer: RtcStack,
  records: number,
): Promise<SetupSample> {
  const peers: Peer[] = [];
  const clients: SignalingClient[] = [];
  const connectors: RtcConnector[] = [];
  try {
    const a = await Mesh.create(
      await createPeer({ store: new MemoryStore(), logger: silentLogger }),
      {
        name: 'A',
      },
    );
    peers.push(a.peer);
    const b = await joinMember(a, 'B');
    peers.push(b.peer);
    // The device with the smaller id offers.
    const [first, second] = a.device < b.device ? [a, b] : [b, a];
    await first.peer
      .collection(COLLECTION)
      .putMany(makeTasks(records).map((t) => [t.id, t.value] as const));
    const marks: ConnectionMarks[] = [];
    const answererMarks: ConnectionMarks[] = [];
    const c1 = await connector(url, first, benchRtc(offerer, {}, marks), clients);
    const c2 = await connector(url, second, benchRtc(answerer, {}, answererMarks), clients);
    connectors.push(c1, c2);
    const start = performance.now();
    const session = await c1.connect(second.device);
    const sessionAt = performance.now();
    const result = await session.sync();
    const syncAt = performance.now();
    if (result.push.rows < records) {
      throw new Error(`rtc setup: pushed ${result.push.rows} rows, expected ${records}`);
    }
    const [mark, answered] = [marks[0], answererMarks[0]];
    if (marks.length !== 1 || answererMarks.length !== 1 || !mark || !answered) {
      throw new Error(
        `rtc setup: ${marks.length} + ${answererMarks.length} connections, not 1 + 1`,
      );
    }
    return {
      offerMs: since(start, mark.offer, 'offer'),
      answerMs: since(start, answered.answer, 'answer'),
      acceptMs: since(start, mark.accept, 'accept'),
      connectedMs: since(start, mark.connected, 'connected'),
      openMs: since(start, mark.open, 'channel open'),
      sessionMs: sessionAt - start,
      syncMs: syncAt - start,
    };
  } finally {
    for (const c of connectors) c.stop();
    for (const client of clients) client.stop();
    for (const peer of peers) await peer.stop();
  }
}
