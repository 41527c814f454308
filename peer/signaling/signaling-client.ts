import { Emitter, type Unsubscribe } from '../../shared/emitter.js';
import { MeshsyncError } from '../../shared/errors.js';
import type { DeviceId } from '../../shared/ids.js';
import { silentLogger, type Logger } from '../../shared/log.js';
import { fromBase64url, toBase64url } from '../../shared/crypto/bytes.js';
import type { Identity } from '../../shared/crypto/identity.js';
import { deviceJoinProof, roomJoinProof, type RoomKeys } from '../../shared/secure/room.js';
import {
  MAX_SEALED_CHARS,
  SIGNALING_VERSION,
  encodeMessage,
  parseServerMessage,
  type AnnouncedLimits,
  type ClientMessage,
  type ServerMessage,
} from '../../shared/signaling/messages.js';
import {
  RELAY_HEADER_BYTES,
  decodeRelayFrame,
  encodeRelayFrame,
} from '../../shared/signaling/relay-frame.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { ClientRoom } from './client-room.js';
import { Pacer } from './pacer.js';
import { WS_OPEN, type WebSocketFactory, type WebSocketLike } from './socket-port.js';

export type SignalingState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface SignalingClientOptions {
  /** The server's WebSocket URL, e.g. `wss://signal.example.org/signal`. */
  url: string;
  /** This device: it proves its key to join, and the server stamps its id on what it sends. */
  identity: Identity;
  /** Opens a WebSocket (`ws` in Node, the native one in browsers). */
  webSocket: WebSocketFactory;
  /**
   * Reconnect with backoff and jitter after a lost connection; `false` to stay down until the
   * next `join()`.
   */
  reconnect?: BackoffOptions | false;
  /** Give up on a connection attempt that got no greeting within this. @default 10000 */
  connectTimeoutMs?: number;
  /** `join()` rejects with TIMEOUT after this (the client keeps trying). @default 15000 */
  joinTimeoutMs?: number;
  random?: () => number;
  logger?: Logger;
}

export interface SignalingClientEvents extends Record<string, unknown> {
  state: SignalingState;
  /** Joined (or re-joined after a reconnect) with these other members present. */
  joined: { room: string; members: DeviceId[] };
  /** The server took this connection out of a room (another connection of this device joined). */
  left: { room: string; reason: string };
  online: { room: string; device: DeviceId };
  offline: { room: string; device: DeviceId };
  /** A sealed signal from a member; open it with `SignalOpener` and check the sender. */
  signal: { room: string; from: DeviceId; data: string };
  /** A relay frame from a member (end-to-end encrypted by the session on top). */
  relay: { room: string; from: DeviceId; payload: Uint8Array };
  /** A refusal from the server not tied to a pending join (details: room, to). */
  error: MeshsyncError;
  /** The server is going away; the client reconnects after `retryMs` at the earliest. */
  shutdown: { retryMs: number };
}

/**
 * A device's connection to a signaling server: joins rooms with proofs of the room key and the
 * device key, tracks presence, sends and receives sealed signals and relay frames paced to the
 * server's limits, and reconnects with backoff and jitter, re-joining its rooms. It connects
 * when it has a room to be in; everything it gets from the server is validated.
 */
export class SignalingClient {
  private readonly emitter = new Emitter<SignalingClientEvents>();
  private readonly rooms = new Map<string, ClientRoom>();
  private readonly backoff: Backoff | null;
  private readonly log: Logger;
  private socket: WebSocketLike | null = null;
  private challenge: Uint8Array | null = null;
  private pacer: Pacer | null = null;
  private serverLimits: AnnouncedLimits | null = null;
  private current: SignalingState = 'idle';
  private timer: ReturnType<typeof setTimeout> | undefined;
  private retryAfterMs = 0;

  constructor(private readonly options: SignalingClientOptions) {
    if (!/^wss?:\/\/[^\s]+$/.test(options.url)) {
      throw new MeshsyncError('INVALID_OPTION', `signaling url must be ws:// or wss://`);
    }
    this.backoff =
      options.reconnect === false ? null : new Backoff(options.reconnect, options.random);
    this.log = options.logger ?? silentLogger;
  }

  get state(): SignalingState {
    return this.current;
  }

  get device(): DeviceId {
    return this.options.identity.device;
  }

  /** The limits the server announced (null until connected). */
  get limits(): AnnouncedLimits | null {
    return this.serverLimits;
  }

  /** Largest relay payload the server takes (0 until connected). */
  get maxRelayPayload(): number {
    return this.serverLimits ? this.serverLimits.maxPayloadBytes - RELAY_HEADER_BYTES : 0;
  }

  on<K extends keyof SignalingClientEvents>(
    event: K,
    listener: (payload: SignalingClientEvents[K]) => void,
  ): Unsubscribe {
    return this.emitter.on(event, listener);
  }

  /**
   * Joins the room of `keys` (from `roomKeys(meshSecret)`); resolves with the other members.
   * The client stays in the room across reconnects until `leave()`. Rejects with JOIN_REFUSED or
   * LIMIT_REACHED (and forgets the room), or TIMEOUT/ABORTED (and keeps trying).
   */
  join(keys: RoomKeys, options: { signal?: AbortSignal } = {}): Promise<DeviceId[]> {
    if (this.current === 'closed') {
      return Promise.reject(new MeshsyncError('CLOSED', 'signaling client is stopped'));
    }
    let room = this.rooms.get(keys.roomId);
    if (!room) {
      const roomId = keys.roomId;
      room = new ClientRoom(keys, (event, device) =>
        this.emitter.emit(event, { room: roomId, device }),
      );
      this.rooms.set(roomId, room);
      if (this.challenge) this.sendJoin(room);
    }
    if (!this.socket && this.current === 'idle') this.connect();
    return room.wait(this.options.joinTimeoutMs ?? 15_000, options.signal);
  }

  /** Leaves a room (no more presence or messages from it). */
  leave(roomId: string): void {
    const room = this.rooms.get(roomId);
    if (!room) return;
    this.rooms.delete(roomId);
    room.fail(new MeshsyncError('CLOSED', 'left the room'));
    if (room.joined && this.pacer) this.sendMessage({ t: 'leave', room: roomId });
  }

  /** The other devices present in a joined room. */
  members(roomId: string): DeviceId[] {
    return [...(this.rooms.get(roomId)?.members ?? [])];
  }

  /** Sends a sealed signal (from `sealJsonSignal`) to a member; resolves once it is sent. */
  signal(roomId: string, to: DeviceId, sealed: string): Promise<void> {
    if (!/^[A-Za-z0-9_-]+$/.test(sealed) || sealed.length > MAX_SEALED_CHARS) {
      return Promise.reject(new MeshsyncError('INVALID_VALUE', 'not a sealed signal'));
    }
    return this.joinedPacer(roomId).send(
      encodeMessage({ t: 'signal', room: roomId, to, data: sealed }),
    );
  }

  /** Sends one relay frame to a member; at most `maxRelayPayload` bytes. Paced. */
  relay(roomId: string, to: DeviceId, payload: Uint8Array): Promise<void> {
    if (payload.length > this.maxRelayPayload) {
      return Promise.reject(
        new MeshsyncError('VALUE_TOO_LARGE', `relay payload over ${this.maxRelayPayload} bytes`),
      );
    }
    return this.joinedPacer(roomId).send(encodeRelayFrame(roomId, to, payload));
  }

  /** Closes the connection for good; pending joins and sends fail with CLOSED. */
  stop(): void {
    if (this.current === 'closed') return;
    clearTimeout(this.timer);
    const error = new MeshsyncError('CLOSED', 'signaling client stopped');
    for (const room of this.rooms.values()) room.fail(error);
    this.setState('closed');
    this.teardown('stopped', 1000);
    this.rooms.clear();
  }

  private joinedPacer(roomId: string): Pacer {
    const pacer = this.pacer;
    if (!pacer || !this.rooms.get(roomId)?.joined) {
      throw new MeshsyncError(
        'PROTOCOL_STATE',
        'not in that room (join it, or wait for the reconnect)',
      );
    }
    return pacer;
  }

  private connect(): void {
    if (this.current === 'closed' || this.socket) return;
    if (this.rooms.size === 0) return this.setState('idle');
    this.setState(this.current === 'reconnecting' ? 'reconnecting' : 'connecting');
    let socket: WebSocketLike;
    try {
      socket = this.options.webSocket(this.options.url);
    } catch (err) {
      this.log.warn('signaling: cannot open a WebSocket', { error: err });
      return this.scheduleReconnect();
    }
    this.socket = socket;
    socket.binaryType = 'arraybuffer';
    socket.onmessage = (event) => this.receive(socket, event.data);
    socket.onclose = (event) => {
      if (socket === this.socket) this.teardown(`closed (${event.code} ${event.reason})`);
    };
    socket.onerror = () => {
      // A close event follows; nothing to add here.
    };
    this.timer = setTimeout(() => {
      if (socket === this.socket && !this.challenge) this.teardown('no greeting from the server');
    }, this.options.connectTimeoutMs ?? 10_000);
  }

  private receive(socket: WebSocketLike, data: unknown): void {
    if (socket !== this.socket) return;
    if (typeof data !== 'string') {
      if (data instanceof ArrayBuffer) this.receiveRelay(new Uint8Array(data));
      return;
    }
    let message: ServerMessage;
    try {
      message = parseServerMessage(data);
    } catch (err) {
      this.log.warn('signaling: refused a message from the server', { error: err });
      return;
    }
    this.handle(message);
  }

  private receiveRelay(bytes: Uint8Array): void {
    try {
      const frame = decodeRelayFrame(bytes);
      if (!this.rooms.get(frame.room)?.joined) return;
      this.emitter.emit('relay', { room: frame.room, from: frame.device, payload: frame.payload });
    } catch (err) {
      this.log.warn('signaling: refused a relay frame from the server', { error: err });
    }
  }

  private handle(message: ServerMessage): void {
    switch (message.t) {
      case 'hello':
        return this.greeted(message);
      case 'joined':
        return this.joined(message.room, message.self, message.members);
      case 'left': {
        const room = this.rooms.get(message.room);
        if (!room) return;
        this.rooms.delete(message.room);
        room.clear();
        this.emitter.emit('left', { room: message.room, reason: message.reason });
        return;
      }
      case 'online':
      case 'offline': {
        const room = this.rooms.get(message.room);
        if (room?.joined) room.presence(message.t, message.device);
        return;
      }
      case 'signal':
        if (this.rooms.get(message.room)?.joined) {
          this.emitter.emit('signal', {
            room: message.room,
            from: message.from,
            data: message.data,
          });
        }
        return;
      case 'error':
        return this.refused(message);
      case 'shutdown':
        this.retryAfterMs = message.retryMs;
        this.emitter.emit('shutdown', { retryMs: message.retryMs });
        return;
    }
  }

  private greeted(message: Extract<ServerMessage, { t: 'hello' }>): void {
    if (message.v !== SIGNALING_VERSION || this.challenge) {
      this.log.warn('signaling: unexpected greeting', { version: message.v });
      return this.teardown('server speaks another protocol version');
    }
    clearTimeout(this.timer);
    this.challenge = fromBase64url(message.challenge, 'BAD_MESSAGE', 'challenge');
    this.serverLimits = message.limits;
    this.pacer = new Pacer(message.limits, this.socket!);
    this.setState('open');
    for (const room of this.rooms.values()) this.sendJoin(room);
  }

  private joined(roomId: string, self: DeviceId, members: DeviceId[]): void {
    const room = this.rooms.get(roomId);
    if (!room) return;
    if (self !== this.device) {
      this.log.error('signaling: the server stamped another device id on this one', { self });
      return;
    }
    this.backoff?.reset();
    const present = room.joinedWith(members.filter((id) => id !== this.device));
    this.emitter.emit('joined', { room: roomId, members: present });
  }

  private refused(message: Extract<ServerMessage, { t: 'error' }>): void {
    const details = {
      ...(message.room && { room: message.room }),
      ...(message.to && { to: message.to }),
    };
    const error = new MeshsyncError(message.code, `server: ${message.message}`, { details });
    const room = message.room === undefined ? undefined : this.rooms.get(message.room);
    const fatal = ['JOIN_REFUSED', 'LIMIT_REACHED'].includes(message.code);
    if (room && !room.joined && fatal && message.to === undefined) {
      this.rooms.delete(room.id);
      room.fail(error);
      return;
    }
    this.emitter.emit('error', error);
  }

  private sendJoin(room: ClientRoom): void {
    const challenge = this.challenge!;
    const roomId = room.keys.roomId;
    this.sendMessage({
      t: 'join',
      room: roomId,
      key: toBase64url(this.options.identity.publicKey),
      proof: roomJoinProof(room.keys, challenge),
      sig: deviceJoinProof(this.options.identity, roomId, challenge),
    });
  }

  private sendMessage(message: ClientMessage): void {
    this.pacer?.send(encodeMessage(message)).catch((err: unknown) => {
      this.log.debug('signaling: message not sent', { kind: message.t, error: err });
    });
  }

  /** The socket is gone (or must go): clean up, then reconnect unless stopped. */
  private teardown(reason: string, code = 1000): void {
    const socket = this.socket;
    this.socket = null;
    this.challenge = null;
    clearTimeout(this.timer);
    this.pacer?.stop(`signaling connection ${reason}`);
    this.pacer = null;
    if (socket) {
      socket.onmessage = socket.onclose = null;
      // Closing a socket still connecting reports an error later: keep a listener for it.
      socket.onerror = () => undefined;
      if (socket.readyState <= WS_OPEN) {
        try {
          socket.close(code, reason.slice(0, 100));
        } catch {
          // Closing a socket that never opened may throw; it is gone either way.
        }
      }
    }
    for (const room of this.rooms.values()) room.clear();
    if (this.current === 'closed') return;
    this.log.info('signaling: disconnected', { reason });
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (!this.backoff || this.rooms.size === 0) return this.setState('idle');
    // A server that said when to come back gets its clients spread over half that again.
    const random = this.options.random ?? Math.random;
    const delay = Math.max(this.backoff.next(), this.retryAfterMs * (1 + random() / 2));
    this.retryAfterMs = 0;
    this.setState('reconnecting');
    this.timer = setTimeout(() => this.connect(), delay);
  }

  private setState(state: SignalingState): void {
    if (this.current === state) return;
    this.current = state;
    this.emitter.emit('state', state);
  }
}
