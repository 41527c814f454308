import type { Socket } from 'node:net';
import nacl from 'tweetnacl';
import { afterEach } from 'vitest';
import WebSocket, { type ClientOptions } from 'ws';
import { fromBase64url, toBase64url } from '../../shared/crypto/bytes.js';
import { generateIdentity, type Identity } from '../../shared/crypto/identity.js';
import { isErrorCode, type ErrorCode } from '../../shared/errors.js';
import type { DeviceId } from '../../shared/ids.js';
import {
  deviceJoinProof,
  roomJoinProof,
  roomKeys,
  type RoomKeys,
} from '../../shared/secure/room.js';
import { parseServerMessage, type ServerMessage } from '../../shared/signaling/messages.js';
import { decodeRelayFrame, encodeRelayFrame } from '../../shared/signaling/relay-frame.js';
import type { SignalingLimits } from '../../signaling/limits.js';
import {
  createSignalingServer,
  type SignalingServer,
  type SignalingServerOptions,
} from '../../signaling/server.js';
import { eventually } from './peers.js';

/**
 * A raw signaling test client: a bare `ws` socket that logs everything the server sends, parsed
 * strictly. Binary messages are logged as `{ t: 'relay' }` entries; anything that does not parse
 * (or an error with a code meshsync does not know) as `{ t: 'invalid' }`.
 */
export type Hello = Extract<ServerMessage, { t: 'hello' }>;
export interface RelayReceived {
  t: 'relay';
  room: string;
  device: DeviceId;
  payload: Buffer;
}
export interface InvalidReceived {
  t: 'invalid';
  raw: string | Buffer;
  error: string;
}
export type Received = ServerMessage | RelayReceived | InvalidReceived;
export type Of<K extends Received['t']> = Extract<Received, { t: K }>;
export interface CloseInfo {
  code: number;
  reason: string;
}

export const random = (n: number): Uint8Array => nacl.randomBytes(n);
export const newIdentity = (): Identity => generateIdentity(random);
export const newRoom = (): RoomKeys => roomKeys(random(32));
/** An opaque "sealed" signal payload: the server only checks it is base64url. */
export const sealedData = (bytes = 48): string => toBase64url(random(bytes));

/** A room nobody joins: `leave` of it always answers PROTOCOL_STATE, which makes a barrier. */
const BARRIER_ROOM = newRoom().roomId;
const WAIT_MS = 3000;

interface Waiter {
  match: (m: Received) => boolean;
  resolve: (index: number) => void;
}

export class RawClient {
  readonly log: Received[] = [];
  closeInfo: CloseInfo | null = null;
  readonly closed: Promise<CloseInfo>;
  private readonly taken = new Set<number>();
  private waiters: Waiter[] = [];
  private helloMessage: Hello | null = null;

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        resolve(this.closeInfo);
      });
    });
    ws.on('error', () => {}); // surfaced as the close code
    ws.on('message', (data, isBinary) => this.receive(data as Buffer, isBinary));
  }

  /** Opens a socket and waits for the server's hello. */
  static async connect(url: string, options: ClientOptions = {}): Promise<RawClient> {
    const client = new RawClient(new WebSocket(url, options));
    const hello = await client.nextOf('hello');
    client.helloMessage = hello;
    return client;
  }

  get hello(): Hello {
    if (!this.helloMessage) throw new Error('no hello yet');
    return this.helloMessage;
  }

  get challenge(): Uint8Array {
    return fromBase64url(this.hello.challenge);
  }

  /** Sends an object as JSON, or a string exactly as given. */
  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  sendBinary(bytes: Uint8Array): void {
    this.ws.send(bytes, { binary: true });
  }

  signal(room: RoomKeys | string, to: DeviceId, data = sealedData()): string {
    this.send({ t: 'signal', room: roomIdOf(room), to, data });
    return data;
  }

  relay(room: RoomKeys | string, to: DeviceId, payload: Uint8Array = random(32)): Uint8Array {
    this.sendBinary(encodeRelayFrame(roomIdOf(room), to, payload));
    return payload;
  }

  /** A join message with proofs over `challenge` (this connection's by default). */
  joinMessage(room: RoomKeys, identity: Identity, challenge = this.challenge) {
    return {
      t: 'join' as const,
      room: room.roomId,
      key: toBase64url(identity.publicKey),
      proof: roomJoinProof(room, challenge),
      sig: deviceJoinProof(identity, room.roomId, challenge),
    };
  }

  /** Joins `room` as `identity`; the server's answer (`joined`, or an `error` about the room). */
  async join(room: RoomKeys, identity: Identity): Promise<Of<'joined'> | Of<'error'>> {
    this.send(this.joinMessage(room, identity));
    return this.answerAbout(room.roomId);
  }

  /** The next `joined` or `error` about `room`. */
  answerAbout(room: string): Promise<Of<'joined'> | Of<'error'>> {
    return this.next(
      (m): m is Of<'joined'> | Of<'error'> =>
        (m.t === 'joined' || m.t === 'error') && m.room === room,
    );
  }

  /** Waits for (and takes) the first not yet taken message of kind `t` that matches `pred`. */
  nextOf<K extends Received['t']>(
    t: K,
    pred: (m: Of<K>) => boolean = () => true,
    timeoutMs = WAIT_MS,
  ): Promise<Of<K>> {
    return this.next((m): m is Of<K> => m.t === t && pred(m as Of<K>), timeoutMs);
  }

  /** The next `error` with `code`. */
  error(code: ErrorCode, pred: (m: Of<'error'>) => boolean = () => true): Promise<Of<'error'>> {
    return this.nextOf('error', (m) => m.code === code && pred(m));
  }

  next<T extends Received>(match: (m: Received) => m is T, timeoutMs = WAIT_MS): Promise<T> {
    for (let i = 0; i < this.log.length; i++) {
      if (!this.taken.has(i) && match(this.log[i]!)) {
        this.taken.add(i);
        return Promise.resolve(this.log[i] as T);
      }
    }
    return new Promise<T>((resolve, reject) => {
      const fail = (why: string) => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        const recent = this.log.slice(-5).map(describe).join('\n  ');
        reject(new Error(`${why}; last messages:\n  ${recent}`));
      };
      const timer = setTimeout(() => fail(`no matching message in ${timeoutMs} ms`), timeoutMs);
      const waiter: Waiter = {
        match,
        resolve: (index) => {
          clearTimeout(timer);
          resolve(this.log[index] as T);
        },
      };
      this.waiters.push(waiter);
      void this.closed.then(({ code, reason }) => {
        if (this.waiters.includes(waiter)) {
          clearTimeout(timer);
          fail(`socket closed (${code} ${reason}) while waiting`);
        }
      });
    });
  }

  /** Where the log stands now, for `since` and `barrier`. */
  mark(): number {
    return this.log.length;
  }

  /** What arrived from `mark` up to (not including) `until`, or up to now. */
  since(mark: number, until?: Received): Received[] {
    return this.log.slice(mark, until === undefined ? undefined : this.log.indexOf(until));
  }

  /**
   * Sends a message with a known answer and waits for it: since the server handles one
   * connection's messages in order, everything it was going to send in reply to what this client
   * sent before has arrived. Returns what arrived since `mark` before the barrier's answer.
   */
  async barrier(mark = this.mark()): Promise<Received[]> {
    this.send({ t: 'leave', room: BARRIER_ROOM });
    const answer = await this.error('PROTOCOL_STATE', (m) => m.room === BARRIER_ROOM);
    return this.since(mark, answer);
  }

  /** Stops reading from the socket: the server's writes to it pile up. */
  pauseReading(): void {
    (this.ws as unknown as { _socket: Socket })._socket.pause();
  }

  resumeReading(): void {
    (this.ws as unknown as { _socket: Socket })._socket.resume();
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  close(): Promise<CloseInfo> {
    this.ws.close();
    return this.closed;
  }

  terminate(): void {
    this.ws.terminate();
  }

  private receive(data: Buffer, isBinary: boolean): void {
    this.push(isBinary ? parseBinary(data) : parseText(data.toString('utf8')));
  }

  private push(entry: Received): void {
    const index = this.log.push(entry) - 1;
    for (const waiter of this.waiters) {
      if (waiter.match(entry)) {
        this.taken.add(index);
        this.waiters = this.waiters.filter((w) => w !== waiter);
        waiter.resolve(index);
        return;
      }
    }
  }
}

function parseText(raw: string): Received {
  try {
    const message = parseServerMessage(raw);
    if (message.t === 'error') {
      // parseServerMessage turns unknown codes into REMOTE_ERROR; the server must send known ones.
      const code = (JSON.parse(raw) as { code?: unknown }).code;
      if (!isErrorCode(code)) return { t: 'invalid', raw, error: `unknown code ${String(code)}` };
    }
    return message;
  } catch (err) {
    return { t: 'invalid', raw, error: String(err) };
  }
}

function parseBinary(bytes: Buffer): Received {
  try {
    const frame = decodeRelayFrame(bytes);
    return {
      t: 'relay',
      room: frame.room,
      device: frame.device,
      payload: Buffer.from(frame.payload),
    };
  } catch (err) {
    return { t: 'invalid', raw: bytes, error: String(err) };
  }
}

function describe(m: Received): string {
  if (m.t === 'relay') return `relay ${m.room} from ${m.device}: ${m.payload.length} bytes`;
  if (m.t === 'invalid') return `invalid (${m.error})`;
  return JSON.stringify(m).slice(0, 200);
}

function roomIdOf(room: RoomKeys | string): string {
  return typeof room === 'string' ? room : room.roomId;
}

/**
 * Opens a socket that the server refuses at the upgrade; resolves with the HTTP status, or
 * rejects if the socket opened.
 */
export function refusedStatus(url: string, options: ClientOptions = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.on('unexpected-response', (req, res) => {
      resolve(res.statusCode ?? 0);
      req.destroy();
    });
    ws.on('error', () => {});
    ws.on('open', () => {
      ws.terminate();
      reject(new Error('the upgrade was accepted'));
    });
  });
}

export interface Member {
  client: RawClient;
  identity: Identity;
  device: DeviceId;
  joined: Of<'joined'>;
}

/**
 * Servers and clients for one test file; everything is closed after each test. Servers listen
 * on 127.0.0.1, port 0.
 */
export function signalingHarness() {
  const servers: SignalingServer[] = [];
  const clients: RawClient[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.terminate();
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  const harness = {
    async start(
      limits: Partial<SignalingLimits> = {},
      options: SignalingServerOptions = {},
    ): Promise<SignalingServer> {
      const server = await createSignalingServer({
        shutdownGraceMs: 1000,
        ...options,
        port: 0,
        host: '127.0.0.1',
        limits,
      });
      servers.push(server);
      return server;
    },
    async connect(server: SignalingServer, options: ClientOptions = {}): Promise<RawClient> {
      const client = await RawClient.connect(server.url, options);
      clients.push(client);
      return client;
    },
    /** A new connection joined to `room` (must succeed). */
    async member(
      server: SignalingServer,
      room: RoomKeys,
      identity = newIdentity(),
      options: ClientOptions = {},
    ): Promise<Member> {
      const client = await harness.connect(server, options);
      const joined = await client.join(room, identity);
      if (joined.t !== 'joined') throw new Error(`join refused: ${joined.code} ${joined.message}`);
      return { client, identity, device: identity.device, joined };
    },
    track(client: RawClient): RawClient {
      clients.push(client);
      return client;
    },
  };
  return harness;
}

/** GET on the server's HTTP port. */
export async function httpGet(
  server: SignalingServer,
  path: string,
): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(`http://127.0.0.1:${server.port}${path}`);
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    body: await res.text(),
  };
}

/** A metric's value in Prometheus text, or undefined when the series is absent. */
export function metricValue(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

/** Polls `check` until it is true (for server-side state that no message announces). */
export const until = (check: () => boolean, timeoutMs = WAIT_MS): Promise<void> =>
  eventually(check, timeoutMs);
