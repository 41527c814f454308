/**
 * The machinery of the signaling benchmark (the server processes are in signaling-servers.ts):
 * the WebSocket clients in pairs (joined with the real room and device proofs, or bare
 * for the baseline), and the load: a steady rate of messages, each carrying its send time.
 */
import {
  createPrivateKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  type KeyObject,
} from 'node:crypto';
import nacl from 'tweetnacl';
import WebSocket, { type RawData } from 'ws';
import { concatBytes, fromBase64url, toBase64url } from '../shared/crypto/bytes.js';
import { deviceIdFromKey, identityFromSeed, type Identity } from '../shared/crypto/identity.js';
import type { DeviceId } from '../shared/ids.js';
import { deviceJoinProof, roomJoinProof, type RoomKeys } from '../shared/secure/room.js';
import { encodeMessage, parseServerMessage } from '../shared/signaling/messages.js';
import { RELAY_HEADER_BYTES, encodeRelayFrame } from '../shared/signaling/relay-frame.js';
import { sleep } from './table.js';

import type { ServerKind } from './signaling-servers.js';
export type { ServerKind };
export { buildServers, sampleProc, startServer, type ServerProcess } from './signaling-servers.js';

// ---- keys ----

export interface Pair {
  room: RoomKeys;
  devices: [Identity, Identity];
}

/** node:crypto's key object for each secret key the bench made, to sign with it. */
const nativeKeys = new WeakMap<Uint8Array, KeyObject>();

/** An Ed25519 pair in tweetnacl's form, made with node:crypto (tweetnacl takes ~10 ms here). */
function keyPair(): { seed: Uint8Array; publicKey: Uint8Array; secretKey: Uint8Array } {
  const pair = generateKeyPairSync('ed25519');
  // DER, not JWK: on Node 20.20 (OpenSSL 3.0.19) a few thousand JWK exports of Ed25519 keys
  // can hang the main thread for good.
  const seed = new Uint8Array(
    pair.privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(16),
  );
  const publicKey = new Uint8Array(
    pair.publicKey.export({ format: 'der', type: 'spki' }).subarray(12),
  );
  const { privateKey } = pair;
  const secretKey = concatBytes(seed, publicKey);
  nativeKeys.set(secretKey, privateKey);
  return { seed, publicKey, secretKey };
}

function identity(): Identity {
  const { publicKey, secretKey } = keyPair();
  return { device: deviceIdFromKey(publicKey), publicKey, secretKey };
}

/** PKCS#8 DER prefix of an Ed25519 private key; the 32-byte seed follows. */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

const nativeDetached = Object.assign(
  (message: Uint8Array, secretKey: Uint8Array): Uint8Array => {
    const key =
      nativeKeys.get(secretKey) ??
      createPrivateKey({
        key: Buffer.concat([PKCS8_PREFIX, secretKey.subarray(0, 32)]),
        format: 'der',
        type: 'pkcs8',
      });
    return new Uint8Array(sign(null, message, key));
  },
  // eslint-disable-next-line @typescript-eslint/unbound-method -- tweetnacl's, unbound by design
  { verify: nacl.sign.detached.verify },
);

/**
 * Runs `fn` (synchronous) with tweetnacl's Ed25519 detached sign replaced by node:crypto's, so
 * that the clients answer challenges through the shared proof functions without being the
 * bottleneck of the ramp-up: Ed25519 signatures are deterministic, so the bytes are the same
 * (checked by `makePairs`), only some forty times cheaper to make.
 */
export function withNativeSign<T>(fn: () => T): T {
  const original = nacl.sign.detached;
  nacl.sign.detached = nativeDetached;
  try {
    return fn();
  } finally {
    nacl.sign.detached = original;
  }
}

/** Keys for `count` pairs: a room (key pair as `roomKeys` makes it) and two devices each. */
export function makePairs(count: number): Pair[] {
  const pairs: Pair[] = [];
  for (let p = 0; p < count; p++) {
    const { publicKey, secretKey } = keyPair();
    pairs.push({
      room: { roomId: toBase64url(publicKey), secretKey },
      devices: [identity(), identity()],
    });
  }
  // The shortcuts must give what tweetnacl would: the same key pair and the same signatures.
  const { seed, secretKey } = keyPair();
  const viaNacl = identityFromSeed(seed);
  const message = randomBytes(100);
  const native = toBase64url(withNativeSign(() => nacl.sign.detached(message, secretKey)));
  if (
    toBase64url(viaNacl.secretKey) !== toBase64url(secretKey) ||
    toBase64url(nacl.sign.detached(message, secretKey)) !== native
  ) {
    throw new Error('signaling bench: node:crypto and tweetnacl Ed25519 differ');
  }
  return pairs;
}

// ---- clients and the load ----

export interface Client {
  ws: WebSocket;
  room: string;
  /** The device the client sends to, and expects as the sender of what it receives. */
  peer: DeviceId;
}

export interface PhaseResult {
  sent: number;
  received: number;
  /** Latencies in ms, sorted. */
  latencies: Float64Array;
}

/** What every client reports to: the phase being measured, and what went wrong overall. */
export class Recorder {
  phase = 0;
  sent = 0;
  received = 0;
  latencies: number[] = [];
  /** Receipts of a phase that had ended (counted as lost in it). */
  late = 0;
  /** Messages whose sender stamp was not the pair's other device (meshsync only). */
  misstamped = 0;
  unexpectedCloses = 0;
  readonly errors = new Map<string, number>();
  stamped = true;

  receive(client: Client, raw: RawData, isBinary: boolean): void {
    const now = performance.now();
    const bytes = raw as Buffer;
    let phase: number;
    let sentAt: number;
    if (isBinary) {
      if (this.stamped && bytes.toString('latin1', 33, RELAY_HEADER_BYTES) !== client.peer) {
        this.misstamped++;
      }
      phase = bytes.readUInt32LE(RELAY_HEADER_BYTES);
      sentAt = bytes.readDoubleLE(RELAY_HEADER_BYTES + 4);
    } else {
      const message = JSON.parse(bytes.toString()) as { t: string; from?: string; data?: string };
      if (message.t === 'error') {
        const code = (message as { code?: string }).code ?? '?';
        this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
        return;
      }
      if (message.t !== 'signal' || message.data === undefined) return;
      if (this.stamped && message.from !== client.peer) this.misstamped++;
      const [phaseText, micros] = message.data.split('x', 2);
      phase = Number(phaseText);
      sentAt = Number(micros) / 1000;
    }
    if (phase !== this.phase) {
      this.late++;
      return;
    }
    this.received++;
    this.latencies.push(now - sentAt);
  }
}

const JOIN_TIMEOUT_MS = 120_000;

/** Connects client `index` (pair index >> 1, side index & 1), joined when it resolves. */
export function connectClient(
  kind: ServerKind,
  url: string,
  pairs: readonly Pair[],
  index: number,
  recorder: Recorder,
): Promise<Client> {
  const pair = pairs[index >> 1]!;
  const side = index & 1;
  const self = pair.devices[side]!;
  const client = {
    room: pair.room.roomId,
    peer: pair.devices[1 - side]!.device,
  } as Client;
  const target = kind === 'meshsync' ? url : `${url}?pair=${index >> 1}&side=${side}`;
  return new Promise<Client>((resolve, reject) => {
    const ws = new WebSocket(target, { perMessageDeflate: false });
    client.ws = ws;
    let joined = false;
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`client ${index}: no join in ${JOIN_TIMEOUT_MS} ms`));
    }, JOIN_TIMEOUT_MS);
    const done = (): void => {
      joined = true;
      clearTimeout(timer);
      resolve(client);
    };
    ws.on('error', (err) => {
      if (!joined) reject(err);
    });
    ws.on('close', (code) => {
      if (!joined) reject(new Error(`client ${index}: closed (${code}) before joining`));
      else if (code !== 1006 && code !== 1001) recorder.unexpectedCloses++;
    });
    if (kind === 'baseline') ws.once('open', done);
    ws.on('message', (raw: RawData, isBinary) => {
      if (joined) return recorder.receive(client, raw, isBinary);
      const message = parseServerMessage((raw as Buffer).toString());
      if (message.t === 'hello') {
        const challenge = fromBase64url(message.challenge);
        const [proof, sig] = withNativeSign(() => [
          roomJoinProof(pair.room, challenge),
          deviceJoinProof(self, pair.room.roomId, challenge),
        ]);
        const key = toBase64url(self.publicKey);
        ws.send(encodeMessage({ t: 'join', room: pair.room.roomId, key, proof, sig }));
      } else if (message.t === 'joined') {
        done();
      } else if (message.t === 'error') {
        reject(new Error(`client ${index}: ${message.code} ${message.message}`));
      }
    });
  });
}

/** Runs `task(i)` for `from <= i < to`, `concurrency` at a time. */
export async function pool(
  from: number,
  to: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = from;
  const worker = async (): Promise<void> => {
    while (next < to) await task(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** base64url filler, so that signals have the size and alphabet of sealed ones. */
const FILLER = toBase64url(randomBytes(4096));

export interface LoadOptions {
  kind: 'signal' | 'relay';
  /** Messages per second, all clients together. */
  rate: number;
  windowMs: number;
  /** Characters of a signal's `data`, or bytes of a relay frame's payload. */
  size: number;
  drainMs: number;
}

let cursor = 0;

/**
 * One measured phase: clients take turns (round robin) sending to their pair's other device at
 * `rate` messages per second for `windowMs`, then the phase waits for every message to arrive.
 */
export async function runLoad(
  clients: readonly Client[],
  recorder: Recorder,
  options: LoadOptions,
): Promise<PhaseResult> {
  recorder.phase++;
  recorder.sent = 0;
  recorder.received = 0;
  recorder.latencies = [];
  const { phase } = recorder;
  const payload = Buffer.from(FILLER.slice(0, options.size), 'latin1');
  const send = (client: Client): void => {
    if (options.kind === 'signal') {
      const head = `${phase}x${Math.round(performance.now() * 1000)}x`;
      const data = head + FILLER.slice(0, options.size - head.length);
      client.ws.send(encodeMessage({ t: 'signal', room: client.room, to: client.peer, data }));
    } else {
      payload.writeUInt32LE(phase, 0);
      payload.writeDoubleLE(performance.now(), 4);
      client.ws.send(encodeRelayFrame(client.room, client.peer, payload), { binary: true });
    }
    recorder.sent++;
  };
  const start = performance.now();
  for (;;) {
    const elapsed = performance.now() - start;
    if (elapsed >= options.windowMs) break;
    const due = Math.floor((elapsed * options.rate) / 1000) - recorder.sent;
    for (let k = 0; k < due; k++) send(clients[cursor++ % clients.length]!);
    await sleep(1);
  }
  const deadline = performance.now() + options.drainMs;
  while (recorder.received < recorder.sent && performance.now() < deadline) await sleep(5);
  const result = {
    sent: recorder.sent,
    received: recorder.received,
    latencies: Float64Array.from(recorder.latencies).sort(),
  };
  recorder.phase++; // what arrives from now on is late
  return result;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}
