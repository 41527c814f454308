import { describe, expect, it } from 'vitest';
import { MeshsyncError } from '../../shared/errors.js';
import {
  Hlc,
  MAX_COUNTER,
  compareStamps,
  encodeStamp,
  isStamp,
  parseStamp,
  stampWall,
  type Stamp,
} from '../../shared/hlc.js';
import { asDeviceId } from '../../shared/ids.js';

const dev = asDeviceId('devA1');

describe('HLC stamps', () => {
  it('encode to fixed-width base36 so string order is time order', () => {
    expect(encodeStamp(0, 0, dev)).toBe('0000000000000devA1');
    expect(encodeStamp(1_700_000_000_000, 5, dev)).toBe('0loyw3v280005devA1');
    const stamps = [
      encodeStamp(2, 0, asDeviceId('zzzz')),
      encodeStamp(1, 99, asDeviceId('zzzz')),
      encodeStamp(1, 99, asDeviceId('aaaa')),
      encodeStamp(10, 0, asDeviceId('aaaa')),
    ];
    const sorted = [...stamps].sort(compareStamps);
    expect(sorted.map((s) => parseStamp(s))).toEqual([
      { wall: 1, counter: 99, device: 'aaaa' },
      { wall: 1, counter: 99, device: 'zzzz' },
      { wall: 2, counter: 0, device: 'zzzz' },
      { wall: 10, counter: 0, device: 'aaaa' },
    ]);
  });

  it('round-trips and validates shape', () => {
    const s = encodeStamp(123456789, 42, dev);
    expect(isStamp(s)).toBe(true);
    expect(parseStamp(s)).toEqual({ wall: 123456789, counter: 42, device: 'devA1' });
    expect(stampWall(s)).toBe(123456789);
    expect(isStamp('short')).toBe(false);
    expect(isStamp('0000000000000dev')).toBe(false); // device id too short
    expect(isStamp('000000000000Adev1')).toBe(false); // upper case in the prefix
    expect(isStamp(42)).toBe(false);
  });
});

describe('Hlc', () => {
  it('is monotonic when the wall clock stands still or goes back', () => {
    let now = 1000;
    const clock = new Hlc(dev, { now: () => now });
    const a = clock.tick();
    const b = clock.tick();
    now = 500; // clock went backwards
    const c = clock.tick();
    expect(a < b && b < c).toBe(true);
    expect(parseStamp(c)).toEqual({ wall: 1000, counter: 2, device: 'devA1' });
    now = 2000;
    expect(parseStamp(clock.tick())).toEqual({ wall: 2000, counter: 0, device: 'devA1' });
  });

  it('orders local events after observed remote ones', () => {
    const clock = new Hlc(dev, { now: () => 1000 });
    const remote = encodeStamp(1050, 7, asDeviceId('devB1'));
    clock.check(remote);
    clock.observe(remote);
    const next = clock.tick();
    expect(next > remote).toBe(true);
    expect(parseStamp(next)).toMatchObject({ wall: 1050, counter: 8 });
  });

  it('borrows a millisecond when the counter is exhausted', () => {
    const clock = new Hlc(dev, { now: () => 1000 });
    clock.observe(encodeStamp(1000, MAX_COUNTER, asDeviceId('devB1')));
    expect(parseStamp(clock.tick())).toMatchObject({ wall: 1001, counter: 0 });
  });

  it('refuses stamps too far in the future with CLOCK_DRIFT and does not move', () => {
    const clock = new Hlc(dev, { now: () => 1_000_000, maxDriftMs: 60_000 });
    const ok = encodeStamp(1_060_000, 0, asDeviceId('devB1'));
    const tooFar = encodeStamp(1_060_001, 0, asDeviceId('devB1'));
    expect(() => clock.check(ok)).not.toThrow();
    let caught: unknown;
    try {
      clock.check(tooFar);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(MeshsyncError);
    expect((caught as MeshsyncError).code).toBe('CLOCK_DRIFT');
    expect(stampWall(clock.tick())).toBe(1_000_000);
  });

  it('needs a valid device id', () => {
    expect(() => new Hlc('x' as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_ID' }) as Error,
    );
  });

  it('restores its high-water mark from a persisted stamp', () => {
    const first = new Hlc(dev, { now: () => 5000 });
    first.tick();
    const last: Stamp = first.tick();
    const second = new Hlc(dev, { now: () => 10 }); // a restart with a clock that jumped back
    second.observe(last);
    expect(second.tick() > last).toBe(true);
  });
});
