/** Listener map: event name to payload type. */
export type EventMap = Record<string, unknown>;
export type Unsubscribe = () => void;

/**
 * The one event style of meshsync: `on(event, fn)` returns a function that unsubscribes.
 * A listener that throws is reported to `onListenerError` and never breaks the emitter.
 */
export class Emitter<E extends EventMap> {
  private readonly listeners = new Map<keyof E, Set<(payload: never) => void>>();

  constructor(private readonly onListenerError: (err: unknown) => void = reportListenerError) {}

  on<K extends keyof E>(event: K, listener: (payload: E[K]) => void): Unsubscribe {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Resolves with the next payload of `event`. */
  once<K extends keyof E>(event: K): Promise<E[K]> {
    return new Promise((resolve) => {
      const off = this.on(event, (payload) => {
        off();
        resolve(payload);
      });
    });
  }

  emit<K extends keyof E>(event: K, payload: E[K]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as (p: E[K]) => void)(payload);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }

  listenerCount(event: keyof E): number {
    return this.listeners.get(event)?.size ?? 0;
  }
}

function reportListenerError(err: unknown): void {
  // Surface the bug without letting one listener break sync for the others.
  console.error('meshsync: an event listener threw', err);
}
