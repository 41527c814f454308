import { describe, expect, it } from 'vitest';
import { Coalescer } from '../../peer/sync/coalesce.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('Coalescer', () => {
  it('shares a running task and queues exactly one follow-up for later callers', async () => {
    const gates = [deferred(), deferred()];
    let started = 0;
    const c = new Coalescer(async () => {
      const n = started++;
      await gates[n]!.promise;
      return n;
    });
    const first = c.run();
    const second = c.run(); // arrives while run 0 is going: needs a run that starts later
    const third = c.run(); // shares that follow-up
    expect(started).toBe(1);
    gates[0]!.resolve();
    expect(await first).toBe(0);
    await Promise.resolve();
    gates[1]!.resolve();
    expect(await second).toBe(1);
    expect(await third).toBe(1);
    expect(started).toBe(2);
  });

  it('a follow-up still runs after a failed run', async () => {
    let n = 0;
    const c = new Coalescer(async () => {
      if (n++ === 0) throw new Error('first fails');
      return 'ok';
    });
    const a = c.run();
    const b = c.run();
    await expect(a).rejects.toThrow('first fails');
    expect(await b).toBe('ok');
  });

  it('an aborted caller rejects with ABORTED; a run stops only when all its callers aborted', async () => {
    const gate = deferred();
    const signals: AbortSignal[] = [];
    const c = new Coalescer(async (signal) => {
      signals.push(signal);
      await gate.promise;
      return signals.length;
    });
    const x = new AbortController();
    const y = new AbortController();
    const px = c.run(x.signal); // starts run 1
    const py = c.run(y.signal); // run 2, after run 1
    const pz = c.run(); // also run 2, and never aborts
    x.abort();
    await expect(px).rejects.toMatchObject({ code: 'ABORTED' });
    expect(signals[0]!.aborted).toBe(true); // run 1 had no other caller
    y.abort();
    await expect(py).rejects.toMatchObject({ code: 'ABORTED' });
    gate.resolve();
    expect(await pz).toBe(2);
    expect(signals[1]!.aborted).toBe(false); // z kept run 2 going
    await expect(c.run(AbortSignal.abort())).rejects.toMatchObject({ code: 'ABORTED' });
  });
});
