import { describe, expect, it } from 'vitest';
import { eventually } from '../support/peers.js';
import { RTC_PAIRS } from '../support/rtc-pair.js';
import { joinedConnector, pairedMeshes, useRtcTestbed } from './setup.js';

/*
 * WebRTC connections set up through a real signaling server (loopback), for every pair of Node
 * stacks. Only inside a loopback-only network namespace (`npm test` makes one).
 */
const isolated = process.env.MESHSYNC_ISOLATED === '1';
const t = useRtcTestbed();

describe.skipIf(!isolated)('WebRTC through the signaling server', () => {
  for (const [x, y] of RTC_PAIRS) {
    it(`${x} <-> ${y}: either side connects, both get the one session, data syncs both ways`, async () => {
      const { a, b } = await pairedMeshes(t.peers);
      const ca = await joinedConnector(t.bed, t.url, a, x);
      const cb = await joinedConnector(t.bed, t.url, b, y);
      t.connectors.push(ca, cb);
      // The side that does not offer asks; the other side learns of it through 'session'.
      const asker = a.device < b.device ? cb : ca;
      const other = asker === ca ? cb : ca;
      const otherGot = new Promise<unknown>((resolve) => other.on('session', resolve));
      const session = await asker.connect(asker === ca ? b.device : a.device);
      await otherGot;
      expect(session.transport.kind).toBe('webrtc');
      await a.peer.collection('notes').put('from-a', { text: 'hello from A' });
      await b.peer.collection('notes').put('from-b', { text: 'hello from B' });
      await ca.session(b.device)!.sync();
      await cb.session(a.device)!.sync();
      await eventually(async () => (await b.peer.collection('notes').get('from-a')) !== null);
      expect(await a.peer.collection('notes').get('from-b')).toEqual({ text: 'hello from B' });
    });
  }

  it('two devices connecting at the same moment make one connection (no glare)', async () => {
    const { a, b } = await pairedMeshes(t.peers);
    // tweetnacl's own signature check here (the default), Node's native one elsewhere.
    const pure = { signatureCheck: undefined };
    const ca = await joinedConnector(t.bed, t.url, a, 'werift', pure);
    const cb = await joinedConnector(t.bed, t.url, b, 'wrtc', pure);
    t.connectors.push(ca, cb);
    let sessionsA = 0;
    let sessionsB = 0;
    ca.on('session', () => sessionsA++);
    cb.on('session', () => sessionsB++);
    const [sa, sb] = await Promise.all([ca.connect(b.device), cb.connect(a.device)]);
    expect(sessionsA).toBe(1);
    expect(sessionsB).toBe(1);
    expect(sa.state).not.toBe('closed');
    expect(sb.state).not.toBe('closed');
  });
});
