import { MeshsyncError } from '../../shared/errors.js';

/** How a client waits between reconnect attempts. */
export interface BackoffOptions {
  /** First delay. @default 250 */
  initialMs?: number;
  /** Longest delay. @default 30000 */
  maxMs?: number;
  /** Growth per failed attempt. @default 2 */
  factor?: number;
  /** Fraction of each delay that is random, so clients of a restarted server spread out. @default 0.5 */
  jitter?: number;
}

/**
 * Exponential backoff with jitter: attempt n waits `min(max, initial * factor^n)`, of which a
 * `jitter` fraction is drawn at random. Pure apart from the injected random source.
 */
export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly jitter: number;

  constructor(
    options: BackoffOptions = {},
    private readonly random: () => number = Math.random,
  ) {
    this.initialMs = options.initialMs ?? 250;
    this.maxMs = options.maxMs ?? 30_000;
    this.factor = options.factor ?? 2;
    this.jitter = options.jitter ?? 0.5;
    if (!(this.initialMs >= 0) || !(this.maxMs >= this.initialMs) || !(this.factor >= 1)) {
      throw new MeshsyncError(
        'INVALID_OPTION',
        'backoff needs 0 <= initialMs <= maxMs and factor >= 1',
      );
    }
    if (!(this.jitter >= 0 && this.jitter <= 1)) {
      throw new MeshsyncError('INVALID_OPTION', 'backoff jitter is a fraction in [0, 1]');
    }
  }

  /** The delay before the next attempt; each call counts one more failure. */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * this.factor ** this.attempt);
    this.attempt++;
    return Math.round(base * (1 - this.jitter) + base * this.jitter * this.random());
  }

  /** After a success: the next failure starts from the first delay again. */
  reset(): void {
    this.attempt = 0;
  }
}
