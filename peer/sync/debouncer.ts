import type { Timers } from './session-types.js';

/**
 * Coalesces a burst of calls into one: `push(n)` keeps the highest value seen and, `delayMs`
 * after the first call of a burst, hands it to `flush`. Used for "changed" notices.
 */
export class MaxDebouncer {
  private timer: unknown;
  private value = 0;

  constructor(
    private readonly timers: Timers,
    private readonly delayMs: number,
    private readonly flush: (value: number) => void,
  ) {}

  push(value: number): void {
    this.value = Math.max(this.value, value);
    if (this.timer !== undefined) return;
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.flush(this.value);
    }, this.delayMs);
  }

  cancel(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
