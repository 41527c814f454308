import { describe, expect, it } from 'vitest';
import { SecureTransport } from '../../peer/secure/secure-transport.js';
import { TransportEmitter } from '../../peer/transport/transport-emitter.js';
import type { Transport } from '../../peer/transport/transport-port.js';
import { asDeviceId } from '../../shared/ids.js';

/** A raw transport whose events the test drives. */
function rawTransport(): { raw: Transport; events: TransportEmitter } {
  const events = new TransportEmitter();
  const raw: Transport = {
    kind: 'webrtc',
    streaming: true,
    send: () => Promise.resolve(),
    close: () => undefined,
    on: (event, listener) => events.on(event, listener),
  };
  events.on('message', () => undefined); // hand-over of held frames done: hints flow
  return { raw, events };
}

const remote = { device: asDeviceId('peer1'), publicKey: new Uint8Array(32), name: '' };

describe("SecureTransport and 'frameStart' hints", () => {
  it('passes them on when DTLS protects the frames (nothing sealed here)', async () => {
    const { raw, events } = rawTransport();
    const secure = new SecureTransport(raw, remote, null);
    const got: Uint8Array[] = [];
    secure.on('message', () => undefined);
    secure.on('frameStart', (prefix) => got.push(prefix));
    await Promise.resolve();
    events.starting(Uint8Array.of(1, 2, 3));
    expect(got).toEqual([Uint8Array.of(1, 2, 3)]);
    secure.close();
    events.starting(Uint8Array.of(4));
    expect(got).toHaveLength(1); // not after close
  });

  it('drops them when it seals frames (a sealed prefix says nothing)', async () => {
    const { raw, events } = rawTransport();
    const keys = { send: new Uint8Array(32).fill(1), receive: new Uint8Array(32).fill(2) };
    const secure = new SecureTransport(raw, remote, keys);
    let hints = 0;
    secure.on('message', () => undefined);
    secure.on('frameStart', () => hints++);
    await Promise.resolve();
    events.starting(Uint8Array.of(1, 2, 3));
    expect(hints).toBe(0);
  });
});
