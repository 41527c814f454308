import { afterEach, describe, it } from 'vitest';
import type { Peer } from '../../peer/peer.js';
import { eventually, link, memoryPeer } from '../support/peers.js';

const peers: Peer[] = [];
async function make(names: string[]): Promise<Peer[]> {
  const made = await Promise.all(names.map((n) => memoryPeer(n)));
  peers.push(...made);
  return made;
}
afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.stop()));
});

async function sameEverywhere(
  all: Peer[],
  collection: string,
  id: string,
  expected: unknown,
): Promise<void> {
  await eventually(async () => {
    const values = await Promise.all(all.map((p) => p.collection(collection).get(id)));
    return values.every((v) => JSON.stringify(v) === JSON.stringify(expected));
  });
}

describe('topologies (live sync: pull on connect, pull on "changed" notice)', () => {
  it('chain A-B-C: changes reach C through B, and back', async () => {
    const [a, b, c] = (await make(['chainA', 'chainB', 'chainC'])) as [Peer, Peer, Peer];
    await a.collection('notes').put('n1', { text: 'from A' });
    await link(a, b);
    await link(b, c);
    await sameEverywhere([a, b, c], 'notes', 'n1', { text: 'from A' });
    await c.collection('notes').patch('n1', { text: 'edited on C' });
    await sameEverywhere([a, b, c], 'notes', 'n1', { text: 'edited on C' });
    await a.collection('notes').delete('n1');
    await sameEverywhere([a, b, c], 'notes', 'n1', null);
  });

  it('star: a leaf reaches every other leaf through the hub', async () => {
    const [hub, l1, l2, l3] = (await make(['hub1', 'leaf1', 'leaf2', 'leaf3'])) as [
      Peer,
      Peer,
      Peer,
      Peer,
    ];
    for (const leaf of [l1, l2, l3]) await link(hub, leaf);
    await l1.collection('t').put('x', { by: 'l1' });
    await l3.collection('t').put('y', { by: 'l3' });
    await sameEverywhere([hub, l1, l2, l3], 't', 'x', { by: 'l1' });
    await sameEverywhere([hub, l1, l2, l3], 't', 'y', { by: 'l3' });
  });

  it('full mesh of 4: concurrent writes everywhere converge', async () => {
    const all = await make(['mesh1', 'mesh2', 'mesh3', 'mesh4']);
    for (let i = 0; i < all.length; i++)
      for (let j = i + 1; j < all.length; j++) await link(all[i]!, all[j]!);
    await Promise.all(all.map((p, n) => p.collection('t').put(`own${n}`, { n })));
    await Promise.all(all.map((p, n) => p.collection('t').put('shared', { [`f${n}`]: n })));
    await eventually(async () => {
      const lists = await Promise.all(all.map((p) => p.collection('t').list()));
      const first = JSON.stringify(lists[0]);
      return lists[0]!.length === 5 && lists.every((l) => JSON.stringify(l) === first);
    });
  });
});
