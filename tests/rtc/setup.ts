import { afterEach, beforeEach } from 'vitest';
import { Mesh } from '../../peer/mesh/mesh.js';
import { nativeEd25519Verify } from '../../peer/node/ed25519.js';
import { createPeer, type Peer } from '../../peer/peer.js';
import { RtcConnector, type RtcConnectorOptions } from '../../peer/rtc/rtc-connector.js';
import { MemoryStore } from '../../peer/store/memory-store.js';
import { createMemoryTransportPair } from '../../peer/transport/memory-transport.js';
import { silentLogger } from '../../shared/log.js';
import { roomKeys } from '../../shared/secure/room.js';
import { SignalingTestbed } from '../peer-signaling/setup.js';
import { testRtc, type RtcStack } from '../support/rtc-pair.js';

/** Two paired mesh devices (B joined A's mesh over a memory pair, then synced the member list). */
export async function pairedMeshes(peers: Peer[]): Promise<{ a: Mesh; b: Mesh }> {
  const device = async (): Promise<Peer> => {
    const peer = await createPeer({ store: new MemoryStore(), logger: silentLogger });
    peers.push(peer);
    return peer;
  };
  const a = await Mesh.create(await device(), { name: 'A' });
  const [t1, t2] = createMemoryTransportPair();
  const [session, joined] = await Promise.all([
    a.connect(t1),
    Mesh.join(await device(), await a.invite(), t2, { name: 'B' }),
  ]);
  await joined.session.sync();
  await session.sync();
  t1.close('paired');
  return { a, b: joined.mesh };
}

/**
 * A connector for `mesh` on `stack`, its signaling client joined to the mesh's room on `url`.
 * Stopped (with its client) by `bed.cleanup()` through the client list, and by `stop()`.
 */
export async function joinedConnector(
  bed: SignalingTestbed,
  url: string,
  mesh: Mesh,
  stack: RtcStack,
  options: Partial<RtcConnectorOptions> = {},
): Promise<RtcConnector> {
  const signaling = bed.client(url, { identity: mesh.identity });
  await signaling.join(roomKeys(mesh.meshSecret));
  return new RtcConnector({
    mesh,
    signaling,
    rtc: testRtc(stack),
    signatureCheck: nativeEd25519Verify,
    ...options,
  });
}

/** What one test made, stopped after it: a real signaling server, peers, connectors, more. */
export interface RtcTestbed {
  bed: SignalingTestbed;
  /** The test's signaling server. */
  url: string;
  peers: Peer[];
  connectors: RtcConnector[];
  /** Run after the test, before the server closes. */
  cleanups: Array<() => void>;
}

/** Registers the hooks that give each test a fresh signaling server and clean up after it. */
export function useRtcTestbed(): RtcTestbed {
  const t: RtcTestbed = {
    bed: new SignalingTestbed(),
    url: '',
    peers: [],
    connectors: [],
    cleanups: [],
  };
  beforeEach(async () => {
    t.bed = new SignalingTestbed();
    t.url = (await t.bed.server()).url;
  });
  afterEach(async () => {
    for (const c of t.connectors.splice(0)) c.stop();
    for (const cleanup of t.cleanups.splice(0)) cleanup();
    await t.bed.cleanup();
    for (const peer of t.peers.splice(0)) await peer.stop();
  });
  return t;
}
