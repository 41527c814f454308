import { Emitter, type Unsubscribe } from '../../shared/emitter.js';
import type { TransportEvents } from './transport-port.js';

/**
 * The events of a transport, with the port's rule built in: frames delivered before the first
 * 'message' listener are held, then handed over in order (in a microtask, so the listener's
 * owner finishes setting up first). Every transport uses this rather than its own copy.
 */
export class TransportEmitter {
  private readonly emitter = new Emitter<TransportEvents>();
  /** Frames waiting for the first listener; null once they have been handed over. */
  private held: Uint8Array[] | null = [];
  private flushing = false;

  /** A whole frame arrived from the other side. */
  deliver(frame: Uint8Array): void {
    if (this.held) this.held.push(frame);
    else this.emitter.emit('message', frame);
  }

  /** The first bytes of a frame still arriving: a hint, dropped while frames are held. */
  starting(prefix: Uint8Array): void {
    if (!this.held) this.emitter.emit('frameStart', prefix);
  }

  /** The pipe is gone (call once). */
  closed(payload: TransportEvents['close']): void {
    this.emitter.emit('close', payload);
  }

  on<K extends keyof TransportEvents>(
    event: K,
    listener: (payload: TransportEvents[K]) => void,
  ): Unsubscribe {
    const off = this.emitter.on(event, listener);
    if (event === 'message' && this.held && !this.flushing) {
      this.flushing = true;
      queueMicrotask(() => {
        // Frames arriving meanwhile join the queue, so order holds.
        const held = this.held!;
        for (let k = 0; k < held.length; k++) this.emitter.emit('message', held[k]!);
        this.held = null;
      });
    }
    return off;
  }
}
