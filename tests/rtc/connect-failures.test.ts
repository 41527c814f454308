import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import type { RtcConnection, RtcDescription, RtcPort } from '../../peer/rtc/rtc-port.js';
import { roomKeys } from '../../shared/secure/room.js';
import type { MeshsyncError } from '../../shared/errors.js';
import { rejectionCode } from '../support/codes.js';
import { eventually } from '../support/peers.js';
import { RTC_STACKS, testRtc } from '../support/rtc-pair.js';
import { joinedConnector, pairedMeshes, useRtcTestbed } from './setup.js';

/*
 * How connections fail, and that they say why: our own connect timeout (werift never reports
 * `failed` when packets are dropped) with the stage it stopped at, and the user's ICE servers
 * being the ones contacted. Only inside a loopback-only namespace.
 */
const isolated = process.env.MESHSYNC_ISOLATED === '1';
const t = useRtcTestbed();

/** A port whose connections never share a candidate: ICE has nothing to check. */
function candidateless(port: RtcPort): RtcPort {
  const strip = (d: RtcDescription): RtcDescription => ({
    type: d.type,
    sdp: d.sdp
      .split('\r\n')
      .filter((line) => !line.startsWith('a=candidate'))
      .join('\r\n'),
  });
  return {
    ...port,
    createConnection(config) {
      const pc = port.createConnection(config);
      const wrapped: RtcConnection = Object.create(pc) as RtcConnection;
      return Object.assign(wrapped, {
        offer: async () => strip(await pc.offer()),
        answer: async (offer: RtcDescription) => strip(await pc.answer(offer)),
        onCandidate: (listener: Parameters<RtcConnection['onCandidate']>[0]) =>
          pc.onCandidate((c) => (c === null ? listener(null) : undefined)),
        createDataChannel: (label: string) => pc.createDataChannel(label),
        onDataChannel: (l: Parameters<RtcConnection['onDataChannel']>[0]) => pc.onDataChannel(l),
        onStateChange: (l: Parameters<RtcConnection['onStateChange']>[0]) => pc.onStateChange(l),
        accept: (d: RtcDescription) => pc.accept(d),
        addCandidate: (c: Parameters<RtcConnection['addCandidate']>[0]) => pc.addCandidate(c),
        localDescription: () => pc.localDescription(),
        remoteDescription: () => pc.remoteDescription(),
        close: () => pc.close(),
      });
    },
  };
}

/** A STUN Binding success response (RFC 5389) telling the client its address. */
function bindingSuccess(request: Buffer, address: string, port: number): Buffer {
  const response = Buffer.alloc(32);
  response.writeUInt16BE(0x0101, 0);
  response.writeUInt16BE(12, 2);
  request.copy(response, 4, 4, 20); // magic cookie and transaction id
  response.writeUInt16BE(0x0020, 20); // XOR-MAPPED-ADDRESS
  response.writeUInt16BE(8, 22);
  response.writeUInt16BE(0x0001, 24);
  response.writeUInt16BE(port ^ 0x2112, 26);
  const ip = address.split('.').reduce((n, part) => n * 256 + Number(part), 0);
  response.writeUInt32BE((ip ^ 0x2112a442) >>> 0, 28);
  return response;
}

describe.skipIf(!isolated)('WebRTC connection failures', () => {
  it('a device that never answers: TIMEOUT at the signaling stage, said in words', async () => {
    const { a, b } = await pairedMeshes(t.peers);
    const ca = await joinedConnector(t.bed, t.url, a, 'werift', { connectTimeoutMs: 800 });
    t.connectors.push(ca);
    // B is in the room (the server relays to it) but runs no connector.
    await t.bed.client(t.url, { identity: b.identity }).join(roomKeys(b.meshSecret));
    const failure = ca.connect(b.device).catch((err: MeshsyncError) => err);
    const error = (await failure) as MeshsyncError;
    expect(error.code).toBe('TIMEOUT');
    expect(error.details?.stage).toBe('signaling');
    expect(error.message).toMatch(a.device < b.device ? /no answer/ : /no offer/);
  });

  for (const stack of RTC_STACKS) {
    it(`${stack}: no usable candidate: refused at the ICE stage on both sides, with the counts`, async () => {
      const { a, b } = await pairedMeshes(t.peers);
      const options = { connectTimeoutMs: 1500, rtc: candidateless(testRtc(stack)) };
      const ca = await joinedConnector(t.bed, t.url, a, stack, options);
      const cb = await joinedConnector(t.bed, t.url, b, stack, options);
      t.connectors.push(ca, cb);
      const failedAtB: MeshsyncError[] = [];
      cb.on('failed', ({ error }) => failedAtB.push(error));
      const error = (await ca
        .connect(b.device)
        .catch((err: MeshsyncError) => err)) as MeshsyncError;
      // wrtc keeps checking until our timeout; werift gives up at once with nothing to check.
      expect(error.code).toBe(stack === 'wrtc' ? 'TIMEOUT' : 'CONNECT_FAILED');
      expect(error.details?.stage).toBe('ice');
      expect(error.message).toMatch(/ICE found no working path \(\d+ local, 0 remote candidates/);
      await eventually(() => failedAtB.length > 0, 5000);
      expect(['TIMEOUT', 'CONNECT_FAILED', 'REMOTE_ERROR']).toContain(failedAtB[0]!.code);
    });
  }

  for (const stack of RTC_STACKS) {
    it(`${stack}: the ICE servers the user configures are the ones contacted`, async () => {
      const stun = createSocket('udp4');
      t.cleanups.push(() => stun.close());
      const requests: Buffer[] = [];
      stun.on('message', (message, from) => {
        requests.push(message);
        stun.send(bindingSuccess(message, from.address, from.port), from.port, from.address);
      });
      await new Promise<void>((resolve) => stun.bind(0, '127.0.0.1', resolve));
      const iceServers = [{ urls: `stun:127.0.0.1:${stun.address().port}` }];
      const { a, b } = await pairedMeshes(t.peers);
      const ca = await joinedConnector(t.bed, t.url, a, stack, { iceServers });
      const cb = await joinedConnector(t.bed, t.url, b, stack, { iceServers });
      t.connectors.push(ca, cb);
      await ca.connect(b.device);
      await eventually(() => requests.length > 0, 5000);
      // A STUN Binding request: type 0x0001 and the magic cookie.
      expect(requests[0]!.readUInt16BE(0)).toBe(0x0001);
      expect(requests[0]!.readUInt32BE(4)).toBe(0x2112a442);
    });
  }

  it('a connect to itself or after stop() is refused with a code', async () => {
    const { a, b } = await pairedMeshes(t.peers);
    const ca = await joinedConnector(t.bed, t.url, a, 'werift');
    expect(await rejectionCode(ca.connect(a.device))).toBe('INVALID_VALUE');
    ca.stop();
    expect(await rejectionCode(ca.connect(b.device))).toBe('CLOSED');
  });
});
