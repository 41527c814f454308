import { Emitter } from '../../shared/emitter.js';
import { MeshsyncError } from '../../shared/errors.js';
import type { Transport, TransportEvents } from '../../peer/transport/transport-port.js';

class SimEnd implements Transport {
  readonly kind = 'sim';
  readonly streaming = true;
  readonly emitter = new Emitter<TransportEvents>();
  closed = false;

  constructor(
    private readonly link: SimLink,
    private readonly side: 0 | 1,
  ) {}

  send(frame: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new MeshsyncError('CLOSED', 'sim link is cut'));
    this.link.queues[this.side].push(frame.slice());
    return Promise.resolve();
  }

  close(reason = 'closed'): void {
    this.link.cut(reason);
  }

  on<K extends keyof TransportEvents>(
    event: K,
    listener: (payload: TransportEvents[K]) => void,
  ): () => void {
    return this.emitter.on(event, listener);
  }
}

/**
 * A link whose frames wait in queues until the test delivers, reorders, duplicates or drops
 * them, or cuts the link (mid-page if frames are in flight).
 */
export class SimLink {
  /** queues[0]: frames from end 0 to end 1; queues[1]: the other way. */
  readonly queues: [Uint8Array[], Uint8Array[]] = [[], []];
  readonly ends: [SimEnd, SimEnd];
  cutDone = false;

  constructor() {
    this.ends = [new SimEnd(this, 0), new SimEnd(this, 1)];
  }

  get inFlight(): number {
    return this.queues[0].length + this.queues[1].length;
  }

  /** Delivers the frame at `index` (0 = in order) of direction `dir`. */
  deliver(dir: 0 | 1, index = 0): boolean {
    const queue = this.queues[dir];
    if (this.cutDone || queue.length === 0) return false;
    const [frame] = queue.splice(index % queue.length, 1);
    this.ends[dir === 0 ? 1 : 0].emitter.emit('message', frame!);
    return true;
  }

  duplicate(dir: 0 | 1, index: number): void {
    const queue = this.queues[dir];
    if (queue.length > 0) queue.push(queue[index % queue.length]!.slice());
  }

  drop(dir: 0 | 1, index: number): void {
    const queue = this.queues[dir];
    if (queue.length > 0) queue.splice(index % queue.length, 1);
  }

  cut(reason = 'cut'): void {
    if (this.cutDone) return;
    this.cutDone = true;
    this.queues[0].length = 0;
    this.queues[1].length = 0;
    for (const end of this.ends) {
      end.closed = true;
      end.emitter.emit('close', { reason });
    }
  }
}
