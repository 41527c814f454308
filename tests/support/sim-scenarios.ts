import fc from 'fast-check';
import type { StorePort } from '../../peer/store/store-port.js';
import { MeshSim, type SimAction } from './mesh-sim.js';

export type Topology = 'chain' | 'star' | 'mesh' | 'ring';

export function edgesOf(topology: Topology, n: number): Array<[number, number]> {
  const edges: Array<[number, number]> = [];
  for (let i = 1; i < n; i++) {
    if (topology === 'star') edges.push([0, i]);
    else edges.push([i - 1, i]);
  }
  if (topology === 'ring') edges.push([n - 1, 0]);
  if (topology === 'mesh') {
    for (let i = 0; i < n; i++) for (let j = i + 2; j < n; j++) edges.push([i, j]);
  }
  return edges;
}

const value = fc.oneof(
  fc.integer({ min: 0, max: 9 }),
  fc.constantFrom('a', 'b', true, null),
  fc.constant(undefined),
);
const fields = fc.array(fc.tuple(fc.nat(2), value), { minLength: 1, maxLength: 3 });
const link = fc.nat(20);
const dir = fc.constantFrom<0 | 1>(0, 1);

const action: fc.Arbitrary<SimAction> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      k: fc.constantFrom<'put' | 'patch'>('put', 'patch'),
      peer: fc.nat(4),
      c: fc.nat(1),
      id: fc.nat(3),
      fields,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant<'delete'>('delete'),
      peer: fc.nat(4),
      c: fc.nat(1),
      id: fc.nat(3),
    }),
  },
  {
    weight: 10,
    arbitrary: fc.record({
      k: fc.constant<'deliver'>('deliver'),
      link,
      dir,
      index: fc.oneof(
        { weight: 4, arbitrary: fc.constant(0) },
        { weight: 1, arbitrary: fc.nat(5) },
      ),
      count: fc.integer({ min: 1, max: 6 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constantFrom<'duplicate' | 'drop'>('duplicate', 'drop'),
      link,
      dir,
      index: fc.nat(5),
    }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constantFrom<'cut' | 'heal'>('cut', 'heal'), link }) },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant<'sync'>('sync'),
      link,
      side: dir,
      what: fc.constantFrom<'pull' | 'push'>('pull', 'push'),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant<'tick'>('tick'),
      ms: fc.oneof(fc.constant(15), fc.integer({ min: 1, max: 2500 })),
    }),
  },
);

/** A random mesh, clock skews and schedule of actions. */
export type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

export const scenario = fc.record({
  peers: fc.integer({ min: 3, max: 5 }),
  topology: fc.constantFrom<Topology>('chain', 'star', 'mesh', 'ring'),
  skews: fc.array(fc.integer({ min: -2000, max: 2000 }), { minLength: 5, maxLength: 5 }),
  seed: fc.nat(),
  actions: fc.array(action, { minLength: 10, maxLength: 120 }),
});

/** Runs one generated scenario to the end and checks convergence; stores from `makeStore`. */
export async function runScenario(s: Scenario, makeStore?: () => StorePort): Promise<void> {
  const sim = await MeshSim.create(
    s.peers,
    edgesOf(s.topology, s.peers),
    s.skews,
    s.seed,
    makeStore,
  );
  try {
    for (const a of s.actions) await sim.run(a);
    await sim.finish();
    await sim.checkConverged();
  } finally {
    await sim.stop();
  }
}
