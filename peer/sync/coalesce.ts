/**
 * Runs an async task so that concurrent callers share work: a call while the task is idle starts
 * it; a call while it runs gets one follow-up run that starts after the current one (all such
 * callers share that follow-up). Every caller's promise settles after a run that started after
 * the call, so nothing that happened before the call is missed.
 */
export class Coalescer<T> {
  private running: Promise<T> | undefined;
  private queued: Promise<T> | undefined;

  constructor(private readonly task: () => Promise<T>) {}

  get busy(): boolean {
    return this.running !== undefined;
  }

  run(): Promise<T> {
    if (!this.running) return this.start();
    if (!this.queued) {
      const after = this.running.then(
        () => undefined,
        () => undefined,
      );
      this.queued = after.then(() => {
        this.queued = undefined;
        return this.start();
      });
    }
    return this.queued;
  }

  private start(): Promise<T> {
    const run = this.task().finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }
}
