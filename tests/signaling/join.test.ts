import { describe, expect, it } from 'vitest';
import { toBase64url } from '../../shared/crypto/bytes.js';
import { deviceJoinProof, roomJoinProof } from '../../shared/secure/room.js';
import { SIGNALING_VERSION } from '../../shared/signaling/messages.js';
import {
  newIdentity,
  newRoom,
  random,
  signalingHarness,
  type RawClient,
  until,
} from '../support/signaling-raw.js';

const h = signalingHarness();

/** True when `client` is not in `room`: a signal to a member answers PROTOCOL_STATE. */
async function notInRoom(client: RawClient, room: string, member: string): Promise<boolean> {
  client.send({ t: 'signal', room, to: member, data: 'AAAA' });
  const answer = await client.nextOf('error', (m) => m.room === room);
  return answer.code === 'PROTOCOL_STATE';
}

describe('signaling join', { timeout: 10_000 }, () => {
  it('says hello with a fresh challenge and the limits', async () => {
    const server = await h.start({ messagesPerSecond: 7, maxMembersPerRoom: 5 });
    const a = await h.connect(server);
    const b = await h.connect(server);
    expect(a.hello.v).toBe(SIGNALING_VERSION);
    expect(a.challenge.length).toBe(32);
    expect(a.hello.challenge).not.toBe(b.hello.challenge);
    expect(a.hello.limits.messagesPerSecond).toBe(7);
    expect(a.hello.limits.maxMembersPerRoom).toBe(5);
    expect(a.hello.heartbeatMs).toBe(server.limits.heartbeatMs);
  });

  it('joins with valid room and device proofs; the device id is derived from the key', async () => {
    const server = await h.start();
    const room = newRoom();
    const alice = await h.member(server, room);
    expect(alice.joined).toEqual({
      t: 'joined',
      room: room.roomId,
      self: alice.device,
      members: [],
    });
    const bob = await h.member(server, room);
    expect(bob.joined.members).toEqual([alice.device]);
    expect(server.stats()).toMatchObject({ rooms: 1, members: 2 });
  });

  it('refuses a join without a valid room proof, and the client stays out', async () => {
    const server = await h.start();
    const room = newRoom();
    const alice = await h.member(server, room);
    const mallory = await h.connect(server);
    const id = newIdentity();
    const mark = alice.client.mark();
    const malloryMark = mallory.mark();

    // A proof field missing altogether: not even a join.
    const noProof: Partial<ReturnType<RawClient['joinMessage']>> = mallory.joinMessage(room, id);
    delete noProof.proof;
    mallory.send(noProof);
    expect((await mallory.error('BAD_MESSAGE')).message).toMatch(/proof/);

    // The room id alone (a proof signed by some other room's key, or garbage of the right form).
    const other = newRoom();
    const wrongKey = {
      ...mallory.joinMessage(room, id),
      proof: roomJoinProof(other, mallory.challenge),
    };
    mallory.send(wrongKey);
    expect(await mallory.answerAbout(room.roomId)).toMatchObject({
      t: 'error',
      code: 'JOIN_REFUSED',
    });
    mallory.send({ ...mallory.joinMessage(room, id), proof: 'A'.repeat(86) });
    expect(await mallory.answerAbout(room.roomId)).toMatchObject({
      t: 'error',
      code: 'JOIN_REFUSED',
    });

    expect(await notInRoom(mallory, room.roomId, alice.device)).toBe(true);
    expect((await mallory.barrier(malloryMark)).filter((m) => m.t === 'joined')).toEqual([]);
    expect(server.stats().members).toBe(1);
    // Alice was never told of a new member.
    const meanwhile = await alice.client.barrier(mark);
    expect(meanwhile).toEqual([]);
  });

  it('refuses a proof made for another connection’s challenge (replay)', async () => {
    const server = await h.start();
    const room = newRoom();
    const id = newIdentity();
    const honest = await h.connect(server);
    const thief = await h.connect(server);
    // The thief saw a join the honest client made and sends it on its own connection.
    const stolen = honest.joinMessage(room, id);
    thief.send(stolen);
    expect(await thief.answerAbout(room.roomId)).toMatchObject({
      t: 'error',
      code: 'JOIN_REFUSED',
    });
    // Only the room proof replayed, with a fresh device proof: still refused.
    thief.send({ ...thief.joinMessage(room, newIdentity()), proof: stolen.proof });
    expect(await thief.answerAbout(room.roomId)).toMatchObject({
      t: 'error',
      code: 'JOIN_REFUSED',
    });
    // The same message on the connection it was made for is fine.
    honest.send(stolen);
    expect(await honest.answerAbout(room.roomId)).toMatchObject({ t: 'joined', self: id.device });
    expect(server.metrics.rejected('JOIN_REFUSED')).toBe(2);
  });

  it('refuses a device proof that does not match the key (speaking as another device)', async () => {
    const server = await h.start();
    const room = newRoom();
    const alice = await h.member(server, room);
    const mallory = newIdentity();
    const other = newRoom();
    const forgeries: ((c: RawClient) => object)[] = [
      // Claims alice's key, signs with its own.
      (c) => ({ ...c.joinMessage(room, mallory), key: toBase64url(alice.identity.publicKey) }),
      // A device signature over another room's id.
      (c) => ({
        ...c.joinMessage(room, mallory),
        sig: deviceJoinProof(mallory, other.roomId, c.challenge),
      }),
      // A random 32-byte "key" with a random signature.
      (c) => ({
        ...c.joinMessage(room, mallory),
        key: toBase64url(random(32)),
        sig: toBase64url(random(64)),
      }),
    ];
    const mark = alice.client.mark();
    for (const forge of forgeries) {
      const c = await h.connect(server);
      c.send(forge(c));
      expect(await c.answerAbout(room.roomId)).toMatchObject({ t: 'error', code: 'JOIN_REFUSED' });
    }
    expect(server.stats().members).toBe(1);
    expect(await alice.client.barrier(mark)).toEqual([]);
  });

  it('a repeated join on the same connection is idempotent (no second online)', async () => {
    const server = await h.start();
    const room = newRoom();
    const alice = await h.member(server, room);
    const bob = await h.member(server, room);
    await alice.client.nextOf('online', (m) => m.device === bob.device);
    const mark = alice.client.mark();
    const again = await bob.client.join(room, bob.identity);
    expect(again).toEqual({
      t: 'joined',
      room: room.roomId,
      self: bob.device,
      members: [alice.device],
    });
    expect(server.stats()).toMatchObject({ rooms: 1, members: 2 });
    // Bob speaks after the rejoin; Alice hears that and nothing before it.
    const data = bob.client.signal(room, alice.device);
    const heard = await alice.client.nextOf('signal', (m) => m.data === data);
    expect(alice.client.since(mark, heard)).toEqual([]);
  });

  it('the same connection cannot be two devices in one room', async () => {
    const server = await h.start();
    const room = newRoom();
    const alice = await h.member(server, room);
    const answer = await alice.client.join(room, newIdentity());
    expect(answer).toMatchObject({ t: 'error', code: 'PROTOCOL_STATE' });
    expect(server.stats().members).toBe(1);
  });

  it('a newer connection of the same device replaces the old one, which gets left', async () => {
    const server = await h.start();
    const room = newRoom();
    const alice = await h.member(server, room);
    const bob = await h.member(server, room);
    await alice.client.nextOf('online', (m) => m.device === bob.device);
    const aliceMark = alice.client.mark();

    const bob2 = await h.member(server, room, bob.identity);
    expect(bob2.joined.members).toEqual([alice.device]);
    const left = await bob.client.nextOf('left');
    expect(left.room).toBe(room.roomId);
    expect(left.reason).toMatch(/replaced/);
    expect(server.stats()).toMatchObject({ rooms: 1, members: 2 });

    // Signals to bob now reach the new connection only.
    const data = alice.client.signal(room, bob.device);
    expect((await bob2.client.nextOf('signal')).data).toBe(data);
    expect(await bob.client.barrier()).toEqual([]);
    // The old connection no longer speaks in the room.
    expect(await notInRoom(bob.client, room.roomId, alice.device)).toBe(true);
    // Closing the old connection does not take bob offline.
    await bob.client.close();
    await until(() => server.stats().connections === 2);
    const later = bob2.client.signal(room, alice.device);
    const heard = await alice.client.nextOf('signal', (m) => m.data === later);
    expect(alice.client.since(aliceMark, heard).map((m) => m.t)).toEqual([]);
    expect(heard.from).toBe(bob.device);
  });
});
