import { expect, it } from 'vitest';
import { createMemoryTransportPair, createPeer, MemoryStore } from '../../peer/index.js';

// The README's first example, step by step, so it cannot rot.
it('the README example works', async () => {
  const laptop = await createPeer({ store: new MemoryStore(), device: 'laptop1' });
  const phone = await createPeer({ store: new MemoryStore(), device: 'phone01' });
  await laptop.collection('tasks').put('t1', { title: 'Buy milk', done: false });
  const [a, b] = createMemoryTransportPair();
  const onLaptop = laptop.connect(a);
  const onPhone = phone.connect(b);
  await Promise.all([onLaptop.whenReady(), onPhone.whenReady()]);
  await onPhone.pull();
  expect(await phone.collection('tasks').get('t1')).toEqual({ title: 'Buy milk', done: false });
  const seen: unknown[] = [];
  phone
    .collection('tasks')
    .subscribe((change) => seen.push([change.id, change.value, change.source]));
  await phone.collection('tasks').patch('t1', { done: true });
  await onPhone.push();
  expect(await laptop.collection('tasks').get('t1')).toEqual({ title: 'Buy milk', done: true });
  expect(seen).toEqual([['t1', { title: 'Buy milk', done: true }, 'local']]);
  await laptop.stop();
  await phone.stop();
});
