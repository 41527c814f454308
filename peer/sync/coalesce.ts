import { raceAbort } from '../../shared/abort.js';
import { MeshsyncError } from '../../shared/errors.js';

interface Run<T> {
  promise: Promise<T>;
  /** Callers waiting on this run; when all of them abort, the run is told to stop. */
  waiters: number;
  controller: AbortController;
}

/**
 * Runs an async task so that concurrent callers share work: a call while the task is idle starts
 * it; a call while it runs gets one follow-up run that starts after the current one (all such
 * callers share that follow-up). Every caller's promise settles after a run that started after
 * the call, so nothing that happened before the call is missed.
 *
 * A caller may pass an AbortSignal: its promise then rejects with `ABORTED` at once, and the
 * task's own signal aborts when every caller of that run has aborted (a caller without a signal
 * keeps the run going).
 */
export class Coalescer<T> {
  private running: Run<T> | undefined;
  private queued: Run<T> | undefined;

  constructor(private readonly task: (signal: AbortSignal) => Promise<T>) {}

  get busy(): boolean {
    return this.running !== undefined;
  }

  run(signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(aborted());
    const run = this.running ? (this.queued ??= this.follow(this.running)) : this.start();
    run.waiters++;
    if (!signal) return run.promise;
    return raceAbort(run.promise, signal, () => {
      if (--run.waiters === 0) run.controller.abort();
      return aborted();
    });
  }

  private start(): Run<T> {
    const controller = new AbortController();
    const run: Run<T> = { promise: Promise.resolve() as Promise<never>, waiters: 0, controller };
    run.promise = this.task(controller.signal).finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }

  /** A run that starts when `current` settles, whatever its outcome. */
  private follow(current: Run<T>): Run<T> {
    const controller = new AbortController();
    const run: Run<T> = { promise: Promise.resolve() as Promise<never>, waiters: 0, controller };
    const settled = current.promise.then(
      () => undefined,
      () => undefined,
    );
    run.promise = settled.then(() => {
      this.queued = undefined;
      if (controller.signal.aborted) throw aborted();
      this.running = run;
      return this.task(controller.signal).finally(() => {
        if (this.running === run) this.running = undefined;
      });
    });
    return run;
  }
}

export function aborted(): MeshsyncError {
  return new MeshsyncError('ABORTED', 'aborted by the caller');
}
