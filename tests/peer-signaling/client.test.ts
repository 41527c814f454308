import { afterEach, describe, expect, it } from 'vitest';
import nacl from 'tweetnacl';
import type { DeviceId } from '../../shared/ids.js';
import { SignalOpener, openJsonSignal, sealJsonSignal } from '../../shared/secure/signal-seal.js';
import { roomKeys } from '../../shared/secure/room.js';
import { rejectionCode } from '../support/codes.js';
import { SignalingTestbed, newRoom, until } from './setup.js';

const bed = new SignalingTestbed();
afterEach(() => bed.cleanup());

describe('signaling client', () => {
  it('joins with proofs and tracks presence: members on join, then online and offline', async () => {
    const server = await bed.server();
    const room = newRoom();
    const a = bed.client(server.url);
    const b = bed.client(server.url);
    const c = bed.client(server.url);
    const seen: string[] = [];
    a.on('online', ({ device }) => seen.push(`+${device}`));
    a.on('offline', ({ device }) => seen.push(`-${device}`));
    expect(await a.join(room)).toEqual([]);
    expect(await b.join(room)).toEqual([a.device]);
    expect((await c.join(room)).sort()).toEqual([a.device, b.device].sort());
    await until(() => seen.length === 2);
    expect(a.members(room.roomId).sort()).toEqual([b.device, c.device].sort());
    b.leave(room.roomId);
    c.stop();
    await until(() => seen.length === 4);
    expect(seen).toEqual([`+${b.device}`, `+${c.device}`, `-${b.device}`, `-${c.device}`]);
    expect(a.members(room.roomId)).toEqual([]);
    expect(a.state).toBe('open');
  });

  it('carries sealed signals; the sender is the device the server authenticated', async () => {
    const server = await bed.server();
    const secret = nacl.randomBytes(32);
    const room = roomKeys(secret);
    const a = bed.client(server.url);
    const b = bed.client(server.url);
    await a.join(room);
    await b.join(room);
    const got: { from: DeviceId; data: string }[] = [];
    b.on('signal', (s) => got.push(s));
    await a.signal(
      room.roomId,
      b.device,
      sealJsonSignal(secret, a.identity, b.device, { sdp: 'x' }),
    );
    await until(() => got.length === 1);
    const opened = openJsonSignal(new SignalOpener(secret, b.device), got[0]!.data);
    expect(got[0]!.from).toBe(a.device);
    expect(opened.from).toBe(got[0]!.from);
    expect(opened.value).toEqual({ sdp: 'x' });
  });

  it('a join with a key pair that does not make the room id is refused and forgotten', async () => {
    const server = await bed.server();
    const room = newRoom();
    const forged = { roomId: room.roomId, secretKey: newRoom().secretKey };
    const a = bed.client(server.url);
    expect(await rejectionCode(a.join(forged))).toBe('JOIN_REFUSED');
    expect(await a.join(room)).toEqual([]);
    expect(a.members(room.roomId)).toEqual([]);
  });

  it('a full room refuses the join with LIMIT_REACHED', async () => {
    const server = await bed.server({ maxMembersPerRoom: 2 });
    const room = newRoom();
    await bed.client(server.url).join(room);
    await bed.client(server.url).join(room);
    expect(await rejectionCode(bed.client(server.url).join(room))).toBe('LIMIT_REACHED');
  });

  it('paces itself to the announced rate: a burst of signals all arrive, none refused', async () => {
    const server = await bed.server({ messagesPerSecond: 20 });
    const secret = nacl.randomBytes(32);
    const room = roomKeys(secret);
    const a = bed.client(server.url);
    const b = bed.client(server.url);
    await a.join(room);
    await b.join(room);
    const errors: string[] = [];
    a.on('error', (e) => errors.push(e.code));
    let got = 0;
    b.on('signal', () => got++);
    // Sealed first: sealing is slow pure JS, and this process also runs the server.
    const sealed = Array.from({ length: 60 }, (_, k) =>
      sealJsonSignal(secret, a.identity, b.device, k),
    );
    await Promise.all(sealed.map((data) => a.signal(room.roomId, b.device, data)));
    await until(() => got === 60);
    expect(errors).toEqual([]);
    expect(server.metrics.rejected('RATE_LIMITED')).toBe(0);
  });

  it('reconnects with backoff after a server restart and re-joins its rooms', async () => {
    const first = await bed.server();
    const port = first.port;
    const room = newRoom();
    const a = bed.client(first.url);
    const b = bed.client(first.url);
    await a.join(room);
    await b.join(room);
    const states: string[] = [];
    const shutdowns: number[] = [];
    a.on('state', (s) => states.push(s));
    a.on('shutdown', ({ retryMs }) => shutdowns.push(retryMs));
    let rejoined = 0;
    a.on('joined', () => rejoined++);
    await first.close();
    bed.servers.splice(bed.servers.indexOf(first), 1);
    await until(() => a.state === 'reconnecting' && a.members(room.roomId).length === 0);
    expect(shutdowns).toEqual([0]);
    await bed.server({}, port);
    await until(() => rejoined === 1 && a.members(room.roomId).includes(b.device), 15_000);
    expect(states[0]).toBe('reconnecting');
    expect(states.at(-1)).toBe('open');
    const got: string[] = [];
    b.on('signal', ({ data }) => got.push(data));
    await a.signal(room.roomId, b.device, 'c2lnbmFs');
    await until(() => got.length === 1);
  });

  it('stop() fails pending joins with CLOSED and stays down', async () => {
    const server = await bed.server();
    await server.close();
    bed.servers.length = 0;
    const a = bed.client(server.url);
    const pending = a.join(newRoom());
    a.stop();
    expect(await rejectionCode(pending)).toBe('CLOSED');
    expect(a.state).toBe('closed');
    expect(await rejectionCode(a.join(newRoom()))).toBe('CLOSED');
  });

  it('refuses sends outside a joined room and oversized relay payloads', async () => {
    const server = await bed.server();
    const room = newRoom();
    const a = bed.client(server.url);
    const b = bed.client(server.url);
    expect(() => a.signal(room.roomId, b.device, 'abc')).toThrow(/PROTOCOL_STATE/);
    await a.join(room);
    await b.join(room);
    expect(await rejectionCode(a.relay(room.roomId, b.device, new Uint8Array(70_000)))).toBe(
      'VALUE_TOO_LARGE',
    );
    expect(await rejectionCode(a.signal(room.roomId, b.device, 'not sealed!'))).toBe(
      'INVALID_VALUE',
    );
  });

  it('refuses a url that is not ws:// or wss://', () => {
    expect(() => bed.client('http://127.0.0.1:1/signal')).toThrow(/INVALID_OPTION/);
  });
});
