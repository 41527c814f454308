import { afterEach, describe, expect, it } from 'vitest';
import { Mesh } from '../../peer/mesh/mesh.js';
import { MEMBERS } from '../../peer/mesh/member-record.js';
import { createPeer, type Peer } from '../../peer/peer.js';
import { MemoryStore } from '../../peer/store/memory-store.js';
import { createMemoryTransportPair } from '../../peer/transport/memory-transport.js';
import { silentLogger } from '../../shared/log.js';
import { eventually } from '../support/peers.js';
import { relayedPair } from '../support/secure-pair.js';
import { rejectionCode } from '../support/codes.js';

const peers: Peer[] = [];
async function device(): Promise<Peer> {
  const peer = await createPeer({ store: new MemoryStore(), logger: silentLogger });
  peers.push(peer);
  return peer;
}

afterEach(async () => {
  for (const peer of peers.splice(0)) await peer.stop();
});

/** Connects two meshes over a memory pair; resolves with both sessions once ready. */
async function connect(a: Mesh, b: Mesh) {
  const [ta, tb] = createMemoryTransportPair();
  const [sa, sb] = await Promise.all([a.connect(ta), b.connect(tb)]);
  await Promise.all([sa.whenReady(), sb.whenReady()]);
  return [sa, sb] as const;
}

/** `joiner` joins through `member` with `token`. */
async function join(member: Mesh, joiner: Peer, token: string, name = 'new') {
  const [tm, tj] = createMemoryTransportPair();
  const [sm, joined] = await Promise.all([
    member.connect(tm),
    Mesh.join(joiner, token, tj, { name }),
  ]);
  await Promise.all([sm.whenReady(), joined.session.whenReady()]);
  await joined.session.sync();
  await sm.sync();
  return { mesh: joined.mesh, memberSession: sm, session: joined.session };
}

async function names(mesh: Mesh): Promise<string[]> {
  return (await mesh.members()).map((m) => m.name).sort();
}

describe('mesh: identity, pairing and revocation', () => {
  it('a new store has a key pair and a device id derived from it', async () => {
    const peer = await device();
    const mesh = await Mesh.create(peer, { name: 'laptop' });
    expect(peer.device).toMatch(/^[a-z2-7]{16}$/);
    expect(mesh.identity.device).toBe(peer.device);
    const [me] = await mesh.members();
    expect(me?.name).toBe('laptop');
    expect(me?.addedBy).toBe(peer.device);
  });

  it('a peer created with an explicit device id cannot form a mesh (MESH_STATE)', async () => {
    const peer = await createPeer({
      store: new MemoryStore(),
      device: 'alice',
      logger: silentLogger,
    });
    peers.push(peer);
    expect(await rejectionCode(Mesh.create(peer))).toBe('MESH_STATE');
  });

  it('pairs a new device with an invite; the member list syncs to every member', async () => {
    const a = await Mesh.create(await device(), { name: 'A' });
    const bPeer = await device();
    const b = (await join(a, bPeer, await a.invite(), 'B')).mesh;
    expect(await names(a)).toEqual(['A', 'B']);
    expect(await names(b)).toEqual(['A', 'B']);
    // C joins through B with an invite A made: B has it through sync.
    const token = await a.invite();
    await connect(a, b).then(([s]) => s.sync());
    const c = (await join(b, await device(), token, 'C')).mesh;
    expect(await names(c)).toEqual(['A', 'B', 'C']);
    // A learns of C from B, then A and C connect directly.
    const [ab] = await connect(a, b);
    await ab.sync();
    expect(await names(a)).toEqual(['A', 'B', 'C']);
    const [ac] = await connect(a, c);
    expect(ac.remoteDevice).toBe(c.device);
  });

  it('a device that joined can reconnect to the member that let it in before any sync', async () => {
    const a = await Mesh.create(await device(), { name: 'A' });
    const bPeer = await device();
    const [tm, tj] = createMemoryTransportPair();
    const [sm, joined] = await Promise.all([
      a.connect(tm),
      Mesh.join(bPeer, await a.invite(), tj, { name: 'B' }),
    ]);
    await sm.whenReady();
    sm.close('gone before any sync');
    expect(await joined.mesh.members()).toEqual([]);
    // Reopened from the store, as after a restart.
    const b = (await Mesh.open(bPeer))!;
    const [sa, sb] = await connect(a, b);
    expect(sb.remoteDevice).toBe(a.device);
    await sb.pull();
    expect(await names(b)).toEqual(['A', 'B']);
    // The introducer is no exception to revocation.
    sa.close('x');
    await b.revoke(a.device);
    const [t1, t2] = createMemoryTransportPair();
    expect(await Promise.all([rejectionCode(a.connect(t1)), rejectionCode(b.connect(t2))])).toEqual(
      ['AUTH_REVOKED', 'AUTH_REVOKED'],
    );
  });

  it('syncs application data over the secure session, encrypted on the wire', async () => {
    const a = await Mesh.create(await device(), { name: 'A' });
    const b = (await join(a, await device(), await a.invite(), 'B')).mesh;
    await a.peer.collection('notes').put('n1', { text: 'meet at noon' });
    const { a: ta, b: tb, frames } = relayedPair(false);
    const [sa, sb] = await Promise.all([a.connect(ta), b.connect(tb)]);
    await Promise.all([sa.whenReady(), sb.whenReady()]);
    await sb.pull();
    expect(await b.peer.collection('notes').get('n1')).toEqual({ text: 'meet at noon' });
    const wire = frames.map((f) => new TextDecoder().decode(f)).join('');
    expect(wire.includes('meet at noon')).toBe(false);
    expect(wire.includes('"hello"')).toBe(false);
  });

  it('an invite is single use, and expired invites are refused', async () => {
    const a = await Mesh.create(await device(), { name: 'A' });
    const token = await a.invite();
    await join(a, await device(), token, 'B');
    const [tm, tj] = createMemoryTransportPair();
    const [member, joiner] = await Promise.all([
      rejectionCode(a.connect(tm)),
      rejectionCode(Mesh.join(await device(), token, tj)),
    ]);
    expect([member, joiner]).toEqual(['TOKEN_USED', 'TOKEN_USED']);
    const short = await a.invite({ ttlMs: 1 });
    await new Promise((r) => setTimeout(r, 1100));
    expect(
      await rejectionCode(Mesh.join(await device(), short, createMemoryTransportPair()[0])),
    ).toBe('TOKEN_EXPIRED');
  });

  it('refuses a device of another mesh, and one holding a leaked secret but not a member', async () => {
    const a = await Mesh.create(await device(), { name: 'A' });
    const other = await Mesh.create(await device(), { name: 'X' });
    const [ta, tb] = createMemoryTransportPair();
    expect(
      await Promise.all([rejectionCode(a.connect(ta)), rejectionCode(other.connect(tb))]),
    ).toEqual(['AUTH_FAILED', 'AUTH_FAILED']);
    // A thief with the mesh secret but its own key is still not in the member list.
    const thief = await device();
    await thief.replica.store.setMeta('mesh', (await a.peer.replica.store.getMeta('mesh'))!);
    const stolen = (await Mesh.open(thief))!;
    const [t1, t2] = createMemoryTransportPair();
    expect(
      await Promise.all([rejectionCode(a.connect(t1)), rejectionCode(stolen.connect(t2))]),
    ).toEqual(['AUTH_UNKNOWN_DEVICE', 'AUTH_UNKNOWN_DEVICE']);
  });

  it('revocation closes sessions, is refused everywhere it has synced, and cannot be undone by the revoked device', async () => {
    const a = await Mesh.create(await device(), { name: 'A' });
    const b = (await join(a, await device(), await a.invite(), 'B')).mesh;
    const c = (await join(a, await device(), await a.invite(), 'C')).mesh;
    const [ab] = await connect(a, b);
    await ab.sync();
    const closed = new Promise((resolve) => ab.events.on('closed', resolve));
    await a.revoke(b.device);
    await closed;
    const [t1, t2] = createMemoryTransportPair();
    expect(await Promise.all([rejectionCode(a.connect(t1)), rejectionCode(b.connect(t2))])).toEqual(
      ['AUTH_REVOKED', 'AUTH_REVOKED'],
    );
    // B, still talking to C (who has not heard), rewrites its own record without the
    // revocation: a delete then a put, both stamped later, wipe the revocation in the merge on C
    // and, once C syncs with A, on A too. A, having seen the revocation, writes it again, and
    // the revocation wins everywhere.
    const [cb] = await connect(c, b);
    const own = (await b.peer.collection(MEMBERS).get(b.device))!;
    await b.peer.collection(MEMBERS).delete(b.device);
    await b.peer.collection(MEMBERS).put(b.device, own);
    await cb.sync();
    const revokedOn = async (m: Mesh): Promise<boolean> =>
      (await m.members()).find((x) => x.device === b.device)?.revokedAt !== undefined;
    expect(await revokedOn(c)).toBe(false);
    const [ac] = await connect(a, c);
    await ac.sync();
    await eventually(() => revokedOn(c));
    expect(await revokedOn(a)).toBe(true);
    const [t3, t4] = createMemoryTransportPair();
    expect(await Promise.all([rejectionCode(c.connect(t3)), rejectionCode(b.connect(t4))])).toEqual(
      ['AUTH_REVOKED', 'AUTH_REVOKED'],
    );
  });

  it('refuses a man in the middle relaying between two members over DTLS (AUTH_MITM)', async () => {
    const a = await Mesh.create(await device(), { name: 'A' });
    const b = (await join(a, await device(), await a.invite(), 'B')).mesh;
    const relay = relayedPair(true);
    const results = await Promise.all([
      rejectionCode(a.connect(relay.a)),
      rejectionCode(b.connect(relay.b)),
    ]);
    expect(results).toContain('AUTH_MITM');
    expect(results).not.toContain('resolved');
  });
});
