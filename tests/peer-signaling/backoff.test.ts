import { describe, expect, it } from 'vitest';
import { Backoff } from '../../peer/signaling/backoff.js';

describe('backoff', () => {
  it('grows by the factor up to the cap, and starts over after reset', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, factor: 2, jitter: 0 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    b.reset();
    expect(b.next()).toBe(100);
  });

  it('draws the jitter fraction at random, within its bounds', () => {
    const low = new Backoff({ initialMs: 1000, jitter: 0.5 }, () => 0);
    const high = new Backoff({ initialMs: 1000, jitter: 0.5 }, () => 0.999999);
    expect(low.next()).toBe(500);
    expect(high.next()).toBe(1000);
    const spread = new Set(
      Array.from({ length: 50 }, () => new Backoff({ initialMs: 1000 }).next()),
    );
    expect(spread.size).toBeGreaterThan(10);
  });

  it('refuses nonsense options', () => {
    expect(() => new Backoff({ initialMs: 10, maxMs: 5 })).toThrow(/INVALID_OPTION/);
    expect(() => new Backoff({ jitter: 2 })).toThrow(/INVALID_OPTION/);
    expect(() => new Backoff({ factor: 0.5 })).toThrow(/INVALID_OPTION/);
  });
});
