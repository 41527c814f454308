import wrtc from '@roamhq/wrtc';
import { MessageQueue, type Negotiation, type TestChannel, type TestRtcPeer } from './rtc-peer.js';

/**
 * An @roamhq/wrtc (libwebrtc) peer connection for tests, with no ICE servers: in a loopback-only
 * namespace it gathers 127.0.0.1 and ::1 host candidates (UDP, and TCP passive/active) by itself.
 * Always close it: an open wrtc connection keeps the process alive.
 */
export function createWrtcConnection(config: RTCConfiguration = {}): RTCPeerConnection {
  return new wrtc.RTCPeerConnection({ iceServers: [], ...config });
}

/** Resolves when `pc` has gathered all its candidates. */
export function wrtcGatheringComplete(pc: RTCPeerConnection): Promise<void> {
  return new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    const check = (): void => {
      if (pc.iceGatheringState !== 'complete') return;
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    pc.addEventListener('icegatheringstatechange', check);
  });
}

function wrapChannel(dc: RTCDataChannel): Promise<TestChannel> {
  const queue = new MessageQueue();
  dc.addEventListener('message', (event: MessageEvent<unknown>) => {
    queue.push(typeof event.data === 'string' ? event.data : String(event.data));
  });
  const channel: TestChannel = { send: async (text) => dc.send(text), next: () => queue.next() };
  return new Promise((resolve) => {
    if (dc.readyState === 'open') return resolve(channel);
    dc.addEventListener('open', () => resolve(channel));
  });
}

/** Offer, answer and accept on a wrtc connection, each waiting for ICE gathering. */
export function wrtcNegotiation(pc: RTCPeerConnection): Negotiation {
  const local = async (): Promise<string> => {
    await wrtcGatheringComplete(pc);
    const sdp = pc.localDescription?.sdp;
    if (!sdp) throw new Error('wrtc: no local description');
    return sdp;
  };
  return {
    async offer() {
      await pc.setLocalDescription(await pc.createOffer());
      return local();
    },
    async answer(offerSdp) {
      await pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
      await pc.setLocalDescription(await pc.createAnswer());
      return local();
    },
    async accept(answerSdp) {
      await pc.setRemoteDescription({ type: 'answer', sdp: answerSdp });
    },
  };
}

/** A wrtc `TestRtcPeer`. */
export function createWrtcTestPeer(config: RTCConfiguration = {}): TestRtcPeer {
  const pc = createWrtcConnection(config);
  let opened: Promise<TestChannel> | undefined;
  const remoteChannel = new Promise<TestChannel>((resolve) => {
    pc.addEventListener('datachannel', (event) => resolve(wrapChannel(event.channel)));
  });
  const negotiation = wrtcNegotiation(pc);
  return {
    stack: 'wrtc',
    offer() {
      opened = wrapChannel(pc.createDataChannel('meshsync'));
      return negotiation.offer();
    },
    answer: (offerSdp) => negotiation.answer(offerSdp),
    accept: (answerSdp) => negotiation.accept(answerSdp),
    channel: () => opened ?? remoteChannel,
    close: async () => pc.close(),
  };
}
