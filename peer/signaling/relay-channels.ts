import { Emitter, type Unsubscribe } from '../../shared/emitter.js';
import { MeshsyncError } from '../../shared/errors.js';
import type { DeviceId } from '../../shared/ids.js';
import { LIMITS } from '../../shared/limits.js';
import { ChunkAssembler, chunksOf } from '../transport/frame-chunks.js';
import { TransportEmitter } from '../transport/transport-emitter.js';
import type { Transport, TransportEvents } from '../transport/transport-port.js';
import type { SignalingClient } from './signaling-client.js';

/**
 * Transports through the signaling server's relay, for two members whose direct paths all
 * failed. Each relay payload is `op (1) | channel (u32) | data`: open, a chunk with more to
 * follow, a frame's last chunk, or close. The channel number keeps one session's frames apart from the
 * next one's. The relay carries no security of its own (no DTLS): the secure session on top
 * seals every frame, so the server forwards only ciphertext.
 */
const OP_MORE = 1;
const OP_LAST = 2;
const OP_CLOSE = 3;
const OP_OPEN = 4;
const HEADER = 5;
/** Closed channels remembered, so a late frame does not open a new one. */
const ENDED_MEMORY = 1024;

export interface RelayChannelEvents extends Record<string, unknown> {
  /** A member opened a channel to this device: run `mesh.connect(transport)` on it. */
  incoming: { room: string; from: DeviceId; transport: Transport };
}

export class RelayChannels {
  private readonly channels = new Map<string, RelayTransport>();
  private readonly ended = new Set<string>();
  private readonly emitter = new Emitter<RelayChannelEvents>();
  private readonly offs: Unsubscribe[];

  constructor(
    readonly client: SignalingClient,
    private readonly random: () => number = Math.random,
  ) {
    this.offs = [
      client.on('relay', ({ room, from, payload }) => this.receive(room, from, payload)),
      client.on('offline', ({ room, device }) =>
        this.closeWhere((t) => t.room === room && t.to === device, 'the device went offline'),
      ),
      client.on('state', (state) => {
        if (state !== 'open') this.closeWhere(() => true, 'signaling connection lost');
      }),
      client.on('error', (error) => {
        const to = error.details?.to;
        if (error.code === 'OVERLOADED' || error.code === 'NOT_FOUND') {
          this.closeWhere((t) => t.to === to, error.message, error);
        }
      }),
    ];
  }

  on<K extends keyof RelayChannelEvents>(
    event: K,
    listener: (payload: RelayChannelEvents[K]) => void,
  ): Unsubscribe {
    return this.emitter.on(event, listener);
  }

  /**
   * Opens a channel to `to` in `room` (joined). When `to` is not there, the server says so and
   * the channel closes with NOT_FOUND.
   */
  open(room: string, to: DeviceId): Transport {
    const channel = Math.floor(this.random() * 2 ** 32) >>> 0;
    const transport = this.add(room, to, channel);
    transport.announce();
    return transport;
  }

  /** Closes every channel and stops listening to the client. */
  stop(): void {
    for (const off of this.offs) off();
    this.closeWhere(() => true, 'relay stopped');
  }

  private add(room: string, to: DeviceId, channel: number): RelayTransport {
    const key = `${room}/${to}/${channel}`;
    const transport = new RelayTransport(this.client, room, to, channel, () => {
      this.channels.delete(key);
      this.ended.add(key);
      if (this.ended.size > ENDED_MEMORY) this.ended.delete(this.ended.values().next().value!);
    });
    this.channels.set(key, transport);
    return transport;
  }

  private receive(room: string, from: DeviceId, payload: Uint8Array): void {
    if (payload.length < HEADER) return;
    const op = payload[0]!;
    const channel = new DataView(payload.buffer, payload.byteOffset + 1, 4).getUint32(0);
    const key = `${room}/${from}/${channel}`;
    let transport = this.channels.get(key);
    if (!transport) {
      if (op !== OP_OPEN || this.ended.has(key)) return;
      transport = this.add(room, from, channel);
      if (this.emitter.listenerCount('incoming') === 0) return transport.close('nobody accepts');
      this.emitter.emit('incoming', { room, from, transport });
      return;
    }
    transport.receive(op, payload.subarray(HEADER));
  }

  private closeWhere(
    match: (t: RelayTransport) => boolean,
    reason: string,
    error?: MeshsyncError,
  ): void {
    for (const transport of [...this.channels.values()]) {
      if (match(transport)) transport.shut(reason, error ?? new MeshsyncError('CLOSED', reason));
    }
  }
}

class RelayTransport implements Transport {
  readonly kind = 'relay';
  readonly streaming = true;
  readonly maxFrameBytes = LIMITS.maxFrameBytes;
  private readonly emitter = new TransportEmitter();
  private readonly assembler = new ChunkAssembler(LIMITS.maxFrameBytes);
  private closed = false;

  constructor(
    private readonly client: SignalingClient,
    readonly room: string,
    readonly to: DeviceId,
    private readonly channel: number,
    private readonly onEnd: () => void,
  ) {}

  send(frame: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new MeshsyncError('CLOSED', 'relay channel is closed'));
    const size = this.client.maxRelayPayload - HEADER;
    try {
      // All chunks are queued at once, so two frames sent together never interleave.
      const sends: Promise<void>[] = [];
      for (const [chunk, last] of chunksOf(frame, size)) {
        sends.push(
          this.client.relay(this.room, this.to, this.payload(last ? OP_LAST : OP_MORE, chunk)),
        );
      }
      return Promise.all(sends).then(() => undefined);
    } catch (err) {
      return Promise.reject(
        err instanceof MeshsyncError ? err : new MeshsyncError('CLOSED', String(err)),
      );
    }
  }

  /** Tells the other side the channel exists (its `incoming` event). */
  announce(): void {
    this.control(OP_OPEN);
  }

  close(reason = 'closed'): void {
    if (this.closed) return;
    // Queued after any frames still going out, so the other side gets them first.
    this.control(OP_CLOSE);
    this.shut(reason);
  }

  private control(op: number): void {
    // Best effort: when the connection is gone, the other side learns it from presence instead.
    try {
      void this.client
        .relay(this.room, this.to, this.payload(op, new Uint8Array(0)))
        .catch(() => undefined);
    } catch {
      // Not connected (PROTOCOL_STATE): the same.
    }
  }

  receive(op: number, data: Uint8Array): void {
    if (this.closed) return;
    if (op === OP_CLOSE) return this.shut('closed by the other side');
    if (op !== OP_MORE && op !== OP_LAST) return;
    try {
      const frame = this.assembler.add(data, op === OP_LAST);
      if (frame) this.emitter.deliver(frame);
    } catch (err) {
      this.shut('frame too large', err as MeshsyncError);
    }
  }

  shut(reason: string, error?: MeshsyncError): void {
    if (this.closed) return;
    this.closed = true;
    this.onEnd();
    this.emitter.closed(error ? { reason, error } : { reason });
  }

  on<K extends keyof TransportEvents>(
    event: K,
    listener: (payload: TransportEvents[K]) => void,
  ): Unsubscribe {
    return this.emitter.on(event, listener);
  }

  private payload(op: number, data: Uint8Array): Uint8Array {
    const out = new Uint8Array(HEADER + data.length);
    out[0] = op;
    new DataView(out.buffer).setUint32(1, this.channel);
    out.set(data, HEADER);
    return out;
  }
}
