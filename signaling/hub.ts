import nacl from 'tweetnacl';
import type { RawData, WebSocket } from 'ws';
import { MeshsyncError, type ErrorCode } from '../shared/errors.js';
import type { DeviceId } from '../shared/ids.js';
import type { Logger } from '../shared/log.js';
import { toBase64url } from '../shared/crypto/bytes.js';
import { CHALLENGE_BYTES, verifyDeviceJoin, verifyRoomJoin } from '../shared/secure/room.js';
import {
  CLOSE_CODES,
  SIGNALING_VERSION,
  parseClientMessage,
  type ClientMessage,
} from '../shared/signaling/messages.js';
import { decodeRelayFrame, stampRelayFrame } from '../shared/signaling/relay-frame.js';
import { Connection } from './connection.js';
import { nativeEd25519Verify as verifyNative } from '../peer/node/ed25519.js';
import type { SignalingLimits } from './limits.js';
import type { SignalingMetrics } from './metrics.js';
import { RoomRegistry } from './rooms.js';

/** Message tokens a join costs on top of its own one. */
const JOIN_EXTRA_COST = 9;
/** Failed joins after which a connection is closed (1008). */
const MAX_FAILED_JOINS = 3;

/**
 * The signaling server's heart, apart from HTTP: accepts authenticated sockets, keeps rooms and
 * presence, and relays sealed signals and relay frames between members of one room, stamping
 * the sender it authenticated. Every message is charged to its sender's rate, parsed with a
 * schema, and refused with a coded error that changes nothing.
 */
export class SignalingHub {
  readonly connections = new Set<Connection>();
  readonly rooms = new RoomRegistry<Connection>();
  private readonly perIp = new Map<string, number>();
  private nextId = 1;

  constructor(
    private readonly limits: SignalingLimits,
    private readonly metrics: SignalingMetrics,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Why a new connection from `ip` would be refused now, or null. */
  admission(ip: string): ErrorCode | null {
    if (this.connections.size >= this.limits.maxConnections) return 'LIMIT_REACHED';
    if ((this.perIp.get(ip) ?? 0) >= this.limits.maxConnectionsPerIp) return 'LIMIT_REACHED';
    return null;
  }

  accept(ws: WebSocket, ip: string): void {
    if (this.admission(ip) !== null) {
      // Lost a race with another upgrade from the same address.
      this.metrics.reject('LIMIT_REACHED');
      ws.close(1013, 'too many connections');
      return;
    }
    const conn = new Connection(
      this.nextId++,
      ws,
      ip,
      nacl.randomBytes(CHALLENGE_BYTES),
      this.limits,
      this.now(),
    );
    this.connections.add(conn);
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
    this.metrics.connectionsTotal++;
    this.armIdle(conn);
    ws.on('pong', () => (conn.alive = true));
    ws.on('message', (data, isBinary) => this.receive(conn, data, isBinary));
    ws.on('error', (err) => {
      // ws's own code for a message over maxPayload (it closes with 1009).
      const tooBig = (err as { code?: unknown }).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';
      this.metrics.reject(tooBig ? 'FRAME_TOO_LARGE' : 'SOCKET');
      this.log.warn('signaling socket error', { conn: conn.id, ip, error: err });
    });
    ws.on('close', () => this.drop(conn));
    conn.send({
      t: 'hello',
      v: SIGNALING_VERSION,
      challenge: toBase64url(conn.challenge),
      heartbeatMs: this.limits.heartbeatMs,
      limits: {
        maxPayloadBytes: this.limits.maxPayloadBytes,
        messagesPerSecond: this.limits.messagesPerSecond,
        bytesPerSecond: this.limits.bytesPerSecond,
        maxRoomsPerConnection: this.limits.maxRoomsPerConnection,
        maxMembersPerRoom: this.limits.maxMembersPerRoom,
      },
    });
    this.log.debug('signaling connection', { conn: conn.id, ip });
  }

  private heartbeatTick = 0;

  /**
   * One slice of a heartbeat round: the connections in slice `tick % slices` that missed their
   * last ping are dropped, the rest pinged. Called `slices` times per round, so a server with
   * many clients never pings them all in one burst.
   */
  heartbeat(slices: number): void {
    const slice = this.heartbeatTick++ % slices;
    for (const conn of this.connections) {
      if (conn.id % slices !== slice) continue;
      if (!conn.alive) {
        this.metrics.reject('HEARTBEAT');
        this.log.info('signaling socket missed a heartbeat', { conn: conn.id, ip: conn.ip });
        conn.ws.terminate();
        continue;
      }
      conn.alive = false;
      conn.ws.ping();
    }
  }

  /** Tells every client the server is going away, then closes their sockets (1001). */
  shutdown(retryMs: number): void {
    for (const conn of this.connections) {
      conn.send({ t: 'shutdown', retryMs });
      conn.ws.close(CLOSE_CODES.goingAway, 'server shutting down');
    }
  }

  private receive(conn: Connection, data: RawData, isBinary: boolean): void {
    conn.alive = true;
    const bytes = toBytes(data);
    const now = this.now();
    if (!conn.charge(bytes.length, now)) {
      this.metrics.reject('RATE_LIMITED');
      const refused = conn.refused(now);
      if (refused === 1) conn.sendError('RATE_LIMITED', 'over the rate limit; message dropped');
      if (refused > this.limits.messagesPerSecond) {
        this.log.warn('signaling client flooding; closed', { conn: conn.id, ip: conn.ip });
        conn.ws.close(CLOSE_CODES.policy, 'flooding');
      }
      return;
    }
    try {
      if (isBinary) this.relay(conn, bytes);
      else this.handle(conn, parseClientMessage(bytes.toString('utf8')));
    } catch (err) {
      const error =
        err instanceof MeshsyncError ? err : new MeshsyncError('BAD_MESSAGE', String(err));
      this.metrics.reject(error.code);
      this.log.info('signaling message refused', { conn: conn.id, ip: conn.ip, error });
      conn.sendError(error.code, error.message.slice(0, 500));
    }
  }

  private handle(conn: Connection, message: ClientMessage): void {
    switch (message.t) {
      case 'join':
        return this.join(conn, message);
      case 'leave':
        return this.leave(conn, message.room);
      case 'signal': {
        const target = this.addressee(conn, message.room, message.to);
        if (!target) return;
        target.to.send({ t: 'signal', room: message.room, from: target.from, data: message.data });
        this.metrics.signalsRelayed++;
        return;
      }
    }
  }

  private join(conn: Connection, message: Extract<ClientMessage, { t: 'join' }>): void {
    const { room } = message;
    // Two signature checks: a join costs ten messages of the sender's rate.
    if (!conn.chargeExtra(JOIN_EXTRA_COST, this.now())) {
      return this.refuse(conn, 'RATE_LIMITED', 'too many joins; try again shortly', room);
    }
    const device = verifyDeviceJoin(room, conn.challenge, message.key, message.sig, verifyNative);
    if (!verifyRoomJoin(room, conn.challenge, message.proof, verifyNative) || device === null) {
      this.refuse(conn, 'JOIN_REFUSED', 'join proof does not verify', room);
      if (++conn.failedJoins >= MAX_FAILED_JOINS) {
        this.log.warn('signaling client failed too many joins; closed', {
          conn: conn.id,
          ip: conn.ip,
        });
        conn.ws.close(CLOSE_CODES.policy, 'too many failed joins');
      }
      return;
    }
    const current = conn.rooms.get(room);
    if (current !== undefined && current !== device) {
      return this.refuse(conn, 'PROTOCOL_STATE', 'already in this room as another device', room);
    }
    if (current === undefined && conn.rooms.size >= this.limits.maxRoomsPerConnection) {
      return this.refuse(conn, 'LIMIT_REACHED', 'too many rooms on one connection', room);
    }
    const previous = this.rooms.add(room, device, conn, this.limits.maxMembersPerRoom);
    if (previous === 'full') return this.refuse(conn, 'LIMIT_REACHED', 'the room is full', room);
    conn.rooms.set(room, device);
    clearTimeout(conn.idleTimer);
    if (previous) {
      // The same device on a newer socket (it reconnected first): the old one stops speaking.
      previous.rooms.delete(room);
      previous.send({ t: 'left', room, reason: 'replaced by a newer connection of this device' });
      this.armIdle(previous);
    }
    const members = this.rooms
      .entries(room)
      .filter(([id]) => id !== device)
      .map(([id]) => id);
    conn.send({ t: 'joined', room, self: device, members });
    if (!previous && current === undefined) this.broadcast(room, device, 'online');
  }

  private leave(conn: Connection, room: string): void {
    const device = conn.rooms.get(room);
    if (device === undefined) {
      return this.refuse(conn, 'PROTOCOL_STATE', 'not in this room', room);
    }
    this.depart(conn, room, device);
    conn.send({ t: 'left', room, reason: 'left' });
    this.armIdle(conn);
  }

  private relay(conn: Connection, bytes: Buffer): void {
    const frame = decodeRelayFrame(bytes);
    const target = this.addressee(conn, frame.room, frame.device);
    if (!target) return;
    if (target.to.ws.bufferedAmount > this.limits.maxBufferedBytes) {
      return this.refuse(
        conn,
        'OVERLOADED',
        'the addressee is not keeping up',
        frame.room,
        frame.device,
      );
    }
    stampRelayFrame(bytes, target.from);
    target.to.ws.send(bytes, { binary: true });
    this.metrics.relayFrames++;
    this.metrics.relayBytes += frame.payload.length;
  }

  /** The member `to` of `room` and the sender's stamp, or null after telling the sender why. */
  private addressee(
    conn: Connection,
    room: string,
    to: DeviceId,
  ): { to: Connection; from: DeviceId } | null {
    const from = conn.rooms.get(room);
    if (from === undefined) {
      this.refuse(conn, 'PROTOCOL_STATE', 'join the room before sending to it', room);
      return null;
    }
    const target = this.rooms.get(room, to);
    if (!target || to === from) {
      this.refuse(conn, 'NOT_FOUND', 'no such device in the room', room, to);
      return null;
    }
    return { to: target, from };
  }

  private refuse(
    conn: Connection,
    code: ErrorCode,
    message: string,
    room?: string,
    to?: DeviceId,
  ): void {
    this.metrics.reject(code);
    conn.sendError(code, message, { ...(room && { room }), ...(to && { to }) });
  }

  private depart(conn: Connection, room: string, device: DeviceId): void {
    conn.rooms.delete(room);
    if (this.rooms.remove(room, device, conn)) this.broadcast(room, device, 'offline');
  }

  private broadcast(room: string, device: DeviceId, t: 'online' | 'offline'): void {
    for (const [id, member] of this.rooms.entries(room)) {
      if (id !== device) member.send({ t, room, device });
    }
  }

  private armIdle(conn: Connection): void {
    clearTimeout(conn.idleTimer);
    conn.idleTimer = setTimeout(() => {
      if (conn.rooms.size > 0) return;
      this.metrics.reject('IDLE');
      conn.ws.close(CLOSE_CODES.idle, 'joined no room');
    }, this.limits.idleTimeoutMs);
    conn.idleTimer.unref?.();
  }

  private drop(conn: Connection): void {
    if (!this.connections.delete(conn)) return;
    clearTimeout(conn.idleTimer);
    for (const [room, device] of [...conn.rooms]) this.depart(conn, room, device);
    const left = (this.perIp.get(conn.ip) ?? 1) - 1;
    if (left > 0) this.perIp.set(conn.ip, left);
    else this.perIp.delete(conn.ip);
    this.log.debug('signaling connection closed', { conn: conn.id, ip: conn.ip });
  }
}

function toBytes(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
