import { MeshsyncError } from './errors.js';
import type { Brand, DeviceId } from './ids.js';
import { DEVICE_ID_PATTERN } from './ids.js';

/**
 * A hybrid logical clock stamp, encoded so that plain string comparison orders stamps:
 * 9 base36 digits of wall-clock milliseconds, 4 base36 digits of counter, then the device id
 * (the tie-break). Example: `0lzx3k1a50000devA1`.
 */
export type Stamp = Brand<string, 'Stamp'>;

const WALL_DIGITS = 9;
const COUNTER_DIGITS = 4;
const PREFIX = WALL_DIGITS + COUNTER_DIGITS;
/** Largest wall time a stamp can carry (year 5188). */
export const MAX_WALL = 36 ** WALL_DIGITS - 1;
/** Largest counter; past it the clock borrows one millisecond. */
export const MAX_COUNTER = 36 ** COUNTER_DIGITS - 1;
const STAMP_PATTERN = new RegExp(`^[0-9a-z]{${PREFIX}}[A-Za-z0-9_-]{4,64}$`);

export interface StampParts {
  readonly wall: number;
  readonly counter: number;
  readonly device: DeviceId;
}

export function encodeStamp(wall: number, counter: number, device: DeviceId): Stamp {
  return (wall.toString(36).padStart(WALL_DIGITS, '0') +
    counter.toString(36).padStart(COUNTER_DIGITS, '0') +
    device) as Stamp;
}

/** Checks the shape of a stamp that came from outside; does not judge its time. */
export function isStamp(value: unknown): value is Stamp {
  return typeof value === 'string' && value.length <= PREFIX + 64 && STAMP_PATTERN.test(value);
}

export function stampWall(stamp: Stamp): number {
  return parseInt(stamp.slice(0, WALL_DIGITS), 36);
}

export function parseStamp(stamp: Stamp): StampParts {
  return {
    wall: stampWall(stamp),
    counter: parseInt(stamp.slice(WALL_DIGITS, PREFIX), 36),
    device: stamp.slice(PREFIX) as DeviceId,
  };
}

/** Total order of stamps: wall, then counter, then device id. */
export function compareStamps(a: Stamp, b: Stamp): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface HlcOptions {
  /** Milliseconds since the epoch. @default Date.now */
  readonly now?: () => number;
  /**
   * How far ahead of our wall clock a remote stamp may be. Further ahead, the change is
   * refused with `CLOCK_DRIFT` (and accepted later, once our clock has caught up), so a device
   * with a broken clock cannot pin a record forever. @default 300_000 (5 minutes)
   */
  readonly maxDriftMs?: number;
}

/** Hybrid logical clock (Kulkarni et al.): monotonic, close to wall time, causal across devices. */
export class Hlc {
  readonly device: DeviceId;
  readonly maxDriftMs: number;
  private readonly wallClock: () => number;
  private wall = 0;
  private counter = 0;

  constructor(device: DeviceId, options: HlcOptions = {}) {
    if (!DEVICE_ID_PATTERN.test(device)) {
      throw new MeshsyncError('INVALID_ID', 'HLC needs a valid device id', { details: { device } });
    }
    this.device = device;
    this.wallClock = options.now ?? Date.now;
    this.maxDriftMs = options.maxDriftMs ?? 300_000;
  }

  /** The newest stamp this clock has issued or observed (for persisting across restarts). */
  get last(): Stamp {
    return encodeStamp(this.wall, this.counter, this.device);
  }

  /** A new stamp for a local event, greater than every stamp issued or observed before. */
  tick(): Stamp {
    const pt = this.physical();
    if (pt > this.wall) {
      this.wall = pt;
      this.counter = 0;
    } else {
      this.bump();
    }
    return encodeStamp(this.wall, this.counter, this.device);
  }

  /**
   * Throws `CLOCK_DRIFT` if `stamp` is too far in the future; does not change the clock.
   * Use it to check a whole page before observing any of it.
   */
  check(stamp: Stamp): void {
    const wall = stampWall(stamp);
    const limit = this.physical() + this.maxDriftMs;
    if (wall > limit) {
      throw new MeshsyncError('CLOCK_DRIFT', 'remote clock is too far ahead', {
        details: { stampWall: wall, limit, aheadMs: wall - limit + this.maxDriftMs },
      });
    }
  }

  /** Merges a remote stamp (already checked) so later local stamps sort after it. */
  observe(stamp: Stamp): void {
    const wall = stampWall(stamp);
    if (wall > this.wall) {
      this.wall = wall;
      this.counter = parseInt(stamp.slice(WALL_DIGITS, PREFIX), 36);
    } else if (wall === this.wall) {
      this.counter = Math.max(this.counter, parseInt(stamp.slice(WALL_DIGITS, PREFIX), 36));
    }
  }

  private physical(): number {
    return Math.min(Math.max(0, Math.floor(this.wallClock())), MAX_WALL);
  }

  private bump(): void {
    if (this.counter < MAX_COUNTER) {
      this.counter += 1;
    } else {
      // Counter exhausted within one millisecond: borrow the next millisecond.
      this.wall += 1;
      this.counter = 0;
    }
  }
}
