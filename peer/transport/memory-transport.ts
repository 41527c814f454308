import { MeshsyncError } from '../../shared/errors.js';
import { TransportEmitter } from './transport-emitter.js';
import type { Transport, TransportEvents } from './transport-port.js';

/** Options of an in-memory transport pair. */
export interface MemoryPairOptions {
  /** Copy frames on send, as a real pipe would. @default true */
  copy?: boolean;
}

class MemoryTransport implements Transport {
  readonly kind = 'memory';
  readonly streaming = true;
  readonly emitter = new TransportEmitter();
  other!: MemoryTransport;
  closed = false;

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
    if (!this.closed) this.emitter.deliver(frame);
  }

  close(reason = 'closed'): void {
    if (this.closed) return;
    this.shut(reason);
    queueMicrotask(() => this.other.shut('closed by the other side'));
  }

  shut(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.emitter.closed({ reason });
  }

  on<K extends keyof TransportEvents>(
    event: K,
    listener: (payload: TransportEvents[K]) => void,
  ): () => void {
    return this.emitter.on(event, listener);
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
