import {
  RTCPeerConnection,
  RTCSessionDescription,
  type PeerConfig,
  type RTCDataChannel,
} from 'werift';
import { neutraliseWeriftDefaultStun, WERIFT_LOOPBACK } from '../../peer/node/werift-rtc.js';
import { MessageQueue, type Negotiation, type TestChannel, type TestRtcPeer } from './rtc-peer.js';

/**
 * The configuration for a werift test peer: no ICE servers (not even werift's default public
 * one), and 127.0.0.1 as its only host address. werift skips internal interfaces, so it would
 * gather nothing in a loopback-only namespace without `iceAdditionalHostAddresses`; turning off
 * its own IPv4/IPv6 interface enumeration keeps it on loopback even outside a namespace.
 */
export const WERIFT_LOOPBACK_CONFIG: Partial<PeerConfig> = { iceServers: [], ...WERIFT_LOOPBACK };

/** A werift peer connection for tests (STUN fallback neutralised, loopback configuration). */
export function createWeriftConnection(config: Partial<PeerConfig> = {}): RTCPeerConnection {
  neutraliseWeriftDefaultStun();
  return new RTCPeerConnection({ ...WERIFT_LOOPBACK_CONFIG, ...config });
}

/** The STUN server werift's ICE agent of `pc` would query (undefined once neutralised). */
export function weriftStunServer(pc: RTCPeerConnection): unknown {
  return pc.iceTransports[0]?.connection.stunServer;
}

/** Resolves when `pc` has gathered all its candidates. */
export function weriftGatheringComplete(pc: RTCPeerConnection): Promise<void> {
  return new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    const { unSubscribe } = pc.iceGatheringStateChange.subscribe((state) => {
      if (state !== 'complete') return;
      unSubscribe();
      resolve();
    });
  });
}

function wrapChannel(dc: RTCDataChannel): Promise<TestChannel> {
  const queue = new MessageQueue();
  dc.onMessage.subscribe((data) => queue.push(typeof data === 'string' ? data : data.toString()));
  const channel: TestChannel = { send: async (text) => dc.send(text), next: () => queue.next() };
  return new Promise((resolve) => {
    if (dc.readyState === 'open') return resolve(channel);
    dc.stateChanged.subscribe((state) => {
      if (state === 'open') resolve(channel);
    });
  });
}

/** Offer, answer and accept on a werift connection, each waiting for ICE gathering. */
export function weriftNegotiation(pc: RTCPeerConnection): Negotiation {
  const local = async (): Promise<string> => {
    await weriftGatheringComplete(pc);
    const sdp = pc.localDescription?.sdp;
    if (!sdp) throw new Error('werift: no local description');
    return sdp;
  };
  return {
    async offer() {
      await pc.setLocalDescription(await pc.createOffer());
      return local();
    },
    async answer(offerSdp) {
      await pc.setRemoteDescription(new RTCSessionDescription(offerSdp, 'offer'));
      await pc.setLocalDescription(await pc.createAnswer());
      return local();
    },
    async accept(answerSdp) {
      await pc.setRemoteDescription(new RTCSessionDescription(answerSdp, 'answer'));
    },
  };
}

/** A werift `TestRtcPeer`. */
export function createWeriftTestPeer(config: Partial<PeerConfig> = {}): TestRtcPeer {
  const pc = createWeriftConnection(config);
  let opened: Promise<TestChannel> | undefined;
  const remoteChannel = new Promise<TestChannel>((resolve) => {
    pc.onDataChannel.subscribe((dc) => resolve(wrapChannel(dc)));
  });
  const negotiation = weriftNegotiation(pc);
  return {
    stack: 'werift',
    offer() {
      opened = wrapChannel(pc.createDataChannel('meshsync'));
      return negotiation.offer();
    },
    answer: (offerSdp) => negotiation.answer(offerSdp),
    accept: (answerSdp) => negotiation.accept(answerSdp),
    channel: () => opened ?? remoteChannel,
    close: () => pc.close(),
  };
}
