import { describe, expect, it } from 'vitest';
import nacl from 'tweetnacl';
import { secureHandshake, type HandshakeRole } from '../../peer/secure/handshake.js';
import type { RemoteIdentity } from '../../peer/secure/secure-transport.js';
import { createMemoryTransportPair } from '../../peer/transport/memory-transport.js';
import type { Transport } from '../../peer/transport/transport-port.js';
import { generateIdentity, type Identity } from '../../shared/crypto/identity.js';
import { MeshsyncError } from '../../shared/errors.js';
import { fingerprint, relayedPair, withBinding } from '../support/secure-pair.js';
import { rejectionCode } from '../support/codes.js';

const random = (n: number): Uint8Array => nacl.randomBytes(n);
const meshSecret = random(32);

function member(known: Identity[], revoked: Identity[] = [], secret = meshSecret): HandshakeRole {
  return {
    kind: 'member',
    meshSecret: secret,
    admit(remote: RemoteIdentity) {
      if (revoked.some((r) => r.device === remote.device)) {
        throw new MeshsyncError('AUTH_REVOKED', `${remote.device} is revoked`);
      }
      if (!known.some((k) => k.device === remote.device)) {
        throw new MeshsyncError('AUTH_UNKNOWN_DEVICE', `${remote.device} is not a member`);
      }
    },
  };
}

function echoOnce(t: Transport): Promise<Uint8Array> {
  return new Promise((resolve) => {
    const off = t.on('message', (f) => {
      off();
      resolve(f);
    });
  });
}

describe('secure handshake', () => {
  const alice = generateIdentity(random);
  const bob = generateIdentity(random);
  const eve = generateIdentity(random);

  it('paired devices authenticate each other and exchange sealed frames', async () => {
    const [ta, tb] = createMemoryTransportPair();
    const seen: Uint8Array[] = [];
    ta.on('message', (f) => seen.push(f));
    const [ca, cb] = await Promise.all([
      secureHandshake(ta, { identity: alice, role: member([bob]), random }),
      secureHandshake(tb, { identity: bob, role: member([alice]), random }),
    ]);
    expect(ca.remote.device).toBe(bob.device);
    expect(cb.remote.device).toBe(alice.device);
    expect(ca.transport.encrypted).toBe(true);
    const message = new TextEncoder().encode('secret page');
    const got = echoOnce(ca.transport);
    await cb.transport.send(message);
    expect(await got).toEqual(message);
    // What crossed the wire is sealed: the plain text never appears.
    const last = seen[seen.length - 1]!;
    expect(Buffer.from(last).includes(Buffer.from('secret page'))).toBe(false);
    expect(last.length).toBe(message.length + 32);
  });

  it('refuses an unknown device with AUTH_UNKNOWN_DEVICE on both sides', async () => {
    const [ta, tb] = createMemoryTransportPair();
    const [a, b] = await Promise.all([
      rejectionCode(secureHandshake(ta, { identity: alice, role: member([bob]), random })),
      rejectionCode(secureHandshake(tb, { identity: eve, role: member([alice]), random })),
    ]);
    expect(a).toBe('AUTH_UNKNOWN_DEVICE');
    expect(b).toBe('AUTH_UNKNOWN_DEVICE');
  });

  it('refuses a revoked device with AUTH_REVOKED', async () => {
    const [ta, tb] = createMemoryTransportPair();
    const [a, b] = await Promise.all([
      rejectionCode(secureHandshake(ta, { identity: alice, role: member([bob], [bob]), random })),
      rejectionCode(secureHandshake(tb, { identity: bob, role: member([alice]), random })),
    ]);
    expect([a, b]).toEqual(['AUTH_REVOKED', 'AUTH_REVOKED']);
  });

  it('refuses a device that does not know the mesh secret', async () => {
    const [ta, tb] = createMemoryTransportPair();
    const [a, b] = await Promise.all([
      rejectionCode(secureHandshake(ta, { identity: alice, role: member([eve]), random })),
      rejectionCode(
        secureHandshake(tb, { identity: eve, role: member([alice], [], random(32)), random }),
      ),
    ]);
    expect([a, b]).toEqual(['AUTH_FAILED', 'AUTH_FAILED']);
  });

  it('refuses a replayed handshake', async () => {
    // Record a good handshake from Bob's side, then replay his frames to Alice.
    const [ta, tb] = createMemoryTransportPair();
    const fromBob: Uint8Array[] = [];
    ta.on('message', (f) => fromBob.push(f));
    await Promise.all([
      secureHandshake(ta, { identity: alice, role: member([bob]), random }),
      secureHandshake(tb, { identity: bob, role: member([alice]), random }),
    ]);
    const [victim, attacker] = createMemoryTransportPair();
    const result = rejectionCode(
      secureHandshake(victim, { identity: alice, role: member([bob]), random }),
    );
    for (const frame of fromBob.slice(0, 2)) await attacker.send(frame);
    expect(await result).toBe('AUTH_FAILED');
  });

  it('refuses our own hello reflected back', async () => {
    const [ta, tb] = createMemoryTransportPair();
    tb.on('message', (f) => void tb.send(f).catch(() => undefined));
    expect(
      await rejectionCode(secureHandshake(ta, { identity: alice, role: member([bob]), random })),
    ).toBe('AUTH_FAILED');
  });

  it('refuses a man in the middle that terminates DTLS on both legs (AUTH_MITM)', async () => {
    const { a, b } = relayedPair(true);
    const [ra, rb] = await Promise.all([
      rejectionCode(secureHandshake(a, { identity: alice, role: member([bob]), random })),
      rejectionCode(secureHandshake(b, { identity: bob, role: member([alice]), random })),
    ]);
    expect([ra, rb]).toContain('AUTH_MITM');
    expect(ra).not.toBe('resolved');
    expect(rb).not.toBe('resolved');
  });

  it('connects over DTLS when both see the same fingerprints, and leaves frames to DTLS', async () => {
    const [ta, tb] = createMemoryTransportPair();
    const a = withBinding(ta, { local: fingerprint(1), remote: fingerprint(2) });
    const b = withBinding(tb, { local: fingerprint(2), remote: fingerprint(1) });
    const [ca] = await Promise.all([
      secureHandshake(a, { identity: alice, role: member([bob]), random }),
      secureHandshake(b, { identity: bob, role: member([alice]), random }),
    ]);
    expect(ca.transport.encrypted).toBe(false);
  });

  it('a relay without DTLS sees only ciphertext and cannot alter, replay or reorder frames', async () => {
    const { a, b, frames } = relayedPair(false);
    const [ca, cb] = await Promise.all([
      secureHandshake(a, { identity: alice, role: member([bob]), random }),
      secureHandshake(b, { identity: bob, role: member([alice]), random }),
    ]);
    const got = echoOnce(cb.transport);
    await ca.transport.send(new TextEncoder().encode('hello bob'));
    expect(new TextDecoder().decode(await got)).toBe('hello bob');
    const sealed = frames[frames.length - 1]!;
    expect(new TextDecoder().decode(sealed).includes('hello bob')).toBe(false);
    // Replaying that frame straight into Bob's side closes the session with FRAME_REJECTED.
    const closed = new Promise<string | undefined>((resolve) =>
      cb.transport.on('close', ({ error }) => resolve(error?.code)),
    );
    cb.transport.receive(sealed);
    expect(await closed).toBe('FRAME_REJECTED');
  });

  it('refuses a flipped bit in a sealed frame', async () => {
    const [ta, tb] = createMemoryTransportPair();
    const [ca, cb] = await Promise.all([
      secureHandshake(ta, { identity: alice, role: member([bob]), random }),
      secureHandshake(tb, { identity: bob, role: member([alice]), random }),
    ]);
    void ca;
    const closed = new Promise<string | undefined>((resolve) =>
      cb.transport.on('close', ({ error }) => resolve(error?.code)),
    );
    const { FrameSealer } = await import('../../shared/secure/frame-box.js');
    const frame = new FrameSealer(new Uint8Array(32)).seal(new Uint8Array([1, 2, 3]));
    cb.transport.receive(frame);
    expect(await closed).toBe('FRAME_REJECTED');
  });

  it('times out when the other side says nothing, and honours an abort signal', async () => {
    const [ta] = createMemoryTransportPair();
    expect(
      await rejectionCode(
        secureHandshake(ta, { identity: alice, role: member([bob]), random, timeoutMs: 50 }),
      ),
    ).toBe('TIMEOUT');
    const [tc] = createMemoryTransportPair();
    const abort = new AbortController();
    const pending = rejectionCode(
      secureHandshake(tc, { identity: alice, role: member([bob]), random, signal: abort.signal }),
    );
    abort.abort();
    expect(await pending).toBe('ABORTED');
  });

  it('refuses garbage instead of a hello', async () => {
    const [ta, tb] = createMemoryTransportPair();
    const result = rejectionCode(
      secureHandshake(ta, { identity: alice, role: member([bob]), random }),
    );
    await tb.send(new Uint8Array([0x4d, 0x53, 1, 16, 0, 0, 0, 3, 1, 2, 3]));
    expect(await result).toBe('BAD_FRAME');
  });
});
