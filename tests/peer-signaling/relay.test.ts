import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nacl from 'tweetnacl';
import { Mesh } from '../../peer/mesh/mesh.js';
import { createPeer, type Peer } from '../../peer/peer.js';
import { RelayChannels } from '../../peer/signaling/relay-channels.js';
import { MemoryStore } from '../../peer/store/memory-store.js';
import { createMemoryTransportPair } from '../../peer/transport/memory-transport.js';
import type { Transport, TransportEvents } from '../../peer/transport/transport-port.js';
import type { DeviceId } from '../../shared/ids.js';
import { utf8 } from '../../shared/crypto/bytes.js';
import { silentLogger } from '../../shared/log.js';
import { roomKeys } from '../../shared/secure/room.js';
import type { SignalingServer } from '../../signaling/server.js';
import { runLateListenerCheck, runTransportConformance } from '../conformance/transport-suite.js';
import { eventually } from '../support/peers.js';
import { SignalingTestbed, newRoom, until } from './setup.js';

const bed = new SignalingTestbed();
let server: SignalingServer;
beforeAll(async () => {
  // Generous rates: the conformance suite sends thousands of small frames.
  server = await bed.server({ messagesPerSecond: 20_000, bytesPerSecond: 256 * 1024 * 1024 });
});
afterAll(() => bed.cleanup());

/** Two clients in one room, and a relay channel between them. */
async function relayPair(): Promise<[Transport, Transport]> {
  const room = newRoom();
  const a = new RelayChannels(bed.client(server.url));
  const b = new RelayChannels(bed.client(server.url));
  await a.client.join(room);
  await b.client.join(room);
  await until(() => a.client.members(room.roomId).length === 1);
  const incoming = new Promise<Transport>((resolve) =>
    b.on('incoming', ({ transport }) => resolve(transport)),
  );
  const ta = a.open(room.roomId, b.client.device);
  return [ta, await incoming];
}

describe('relay channels through the signaling server', () => {
  runTransportConformance('signaling relay', relayPair);
  runLateListenerCheck('signaling relay', relayPair);

  it('a channel closes when the other device goes offline', async () => {
    const room = newRoom();
    const a = new RelayChannels(bed.client(server.url));
    const bClient = bed.client(server.url);
    await a.client.join(room);
    await bClient.join(room);
    await until(() => a.client.members(room.roomId).length === 1);
    const t = a.open(room.roomId, bClient.device);
    const closed = new Promise<{ reason: string; error?: { code: string } }>((resolve) =>
      t.on('close', resolve),
    );
    bClient.stop();
    const event = await closed;
    expect(event.reason).toMatch(/offline/);
    expect(event.error?.code).toBe('CLOSED');
  });

  it('a channel to a device not in the room closes with NOT_FOUND', async () => {
    const room = newRoom();
    const a = new RelayChannels(bed.client(server.url));
    await a.client.join(room);
    const t = a.open(room.roomId, 'aaaaaaaaaaaaaaaa' as DeviceId);
    const event = await new Promise<TransportEvents['close']>((resolve) => t.on('close', resolve));
    expect(event.error?.code).toBe('NOT_FOUND');
    await expect(t.send(Uint8Array.of(1))).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('two mesh devices sync through the relay; the server forwards only ciphertext', async () => {
    const peers: Peer[] = [];
    const device = async () => {
      const peer = await createPeer({ store: new MemoryStore(), logger: silentLogger });
      peers.push(peer);
      return peer;
    };
    const meshA = await Mesh.create(await device(), { name: 'A' });
    const bPeer = await device();
    const [t1, t2] = createMemoryTransportPair();
    const [, joined] = await Promise.all([
      meshA.connect(t1),
      Mesh.join(bPeer, await meshA.invite(), t2, { name: 'B' }),
    ]);
    await joined.session.sync();
    t1.close();
    const meshB = joined.mesh;

    const room = roomKeys(meshA.meshSecret);
    const a = new RelayChannels(bed.client(server.url, { identity: meshA.identity }));
    const b = new RelayChannels(bed.client(server.url, { identity: meshB.identity }));
    await a.client.join(room);
    await b.client.join(room);
    const seen: Uint8Array[] = [];
    b.client.on('relay', ({ payload }) => seen.push(payload.slice()));
    const accepted = new Promise<Transport>((resolve) =>
      b.on('incoming', ({ transport }) => resolve(transport)),
    );
    const secretText = `private note ${nacl.randomBytes(4).join('.')}`;
    await meshA.peer.collection('notes').put('n1', { text: secretText });
    const [sa, sb] = await Promise.all([
      meshA.connect(a.open(room.roomId, b.client.device)),
      accepted.then((t) => meshB.connect(t)),
    ]);
    await sb.sync();
    await eventually(
      async () =>
        JSON.stringify(await meshB.peer.collection('notes').get('n1')) ===
        JSON.stringify({ text: secretText }),
    );
    sa.close();
    const needle = utf8('private note');
    const leaked = seen.some((p) => Buffer.from(p).includes(Buffer.from(needle)));
    expect(seen.length).toBeGreaterThan(3);
    expect(leaked).toBe(false);
    for (const peer of peers) await peer.stop();
  });
});
