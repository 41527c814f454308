import { Emitter } from '../../shared/emitter.js';
import { MeshsyncError } from '../../shared/errors.js';
import type { Transport, TransportEvents } from './transport-port.js';

/** Options of an in-memory transport pair. */
export interface MemoryPairOptions {
  /** Copy frames on send, as a real pipe would. @default true */
  copy?: boolean;
}

class MemoryTransport implements Transport {
  readonly kind = 'memory';
  readonly streaming = true;
  readonly emitter = new Emitter<TransportEvents>();
  other!: MemoryTransport;
  closed = false;
  /** Frames that arrived before anyone listened (null once someone does). */
  private held: Uint8Array[] | null = [];

  constructor(private readonly copy: boolean) {}

  send(frame: Uint8Array): Promise<void> {
    if (this.closed)
      return Promise.reject(new MeshsyncError('CLOSED', 'memory transport is closed'));
    const data = this.copy ? frame.slice() : frame;
    const target = this.other;
    // Deliver asynchronously and in order, like a real pipe.
    queueMicrotask(() => target.deliver(data));
    return Promise.resolve();
  }

  deliver(frame: Uint8Array): void {
    if (this.closed) return;
    if (this.held) this.held.push(frame);
    else this.emitter.emit('message', frame);
  }

  close(reason = 'closed'): void {
    if (this.closed) return;
    this.shut(reason);
    queueMicrotask(() => this.other.shut('closed by the other side'));
  }

  shut(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.emitter.emit('close', { reason });
  }

  on<K extends keyof TransportEvents>(
    event: K,
    listener: (payload: TransportEvents[K]) => void,
  ): () => void {
    const off = this.emitter.on(event, listener);
    if (event === 'message' && this.held) {
      const held = this.held;
      this.held = null;
      for (const frame of held) queueMicrotask(() => this.deliver(frame));
    }
    return off;
  }
}

/** Two connected transports in one process: what one sends, the other receives. */
export function createMemoryTransportPair(options: MemoryPairOptions = {}): [Transport, Transport] {
  const copy = options.copy ?? true;
  const a = new MemoryTransport(copy);
  const b = new MemoryTransport(copy);
  a.other = b;
  b.other = a;
  return [a, b];
}
