/** Deterministic test records of about 200 bytes of JSON each. */

export type TaskValue = {
  title: string;
  notes: string;
  done: boolean;
  priority: number;
  tags: string[];
};

export interface Task {
  id: string;
  value: TaskValue;
}

const WORDS = [
  'alpha',
  'backup',
  'call',
  'draft',
  'email',
  'fix',
  'garden',
  'invoice',
  'kitchen',
  'laundry',
  'meeting',
  'notes',
  'order',
  'plan',
  'review',
  'schedule',
  'taxes',
  'update',
  'visit',
  'write',
] as const;

const TAGS = ['home', 'work', 'errand', 'urgent', 'later', 'family', 'health', 'money'] as const;

/** A small seeded PRNG (mulberry32): the same seed gives the same records on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function words(random: () => number, count: number): string {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(pick(random, WORDS));
  return out.join(' ');
}

export function taskId(index: number): string {
  return `t${index.toString().padStart(7, '0')}`;
}

/** The value of task `index`; `version` > 0 gives a changed value of the same task. */
export function makeTaskValue(random: () => number, index: number, version = 0): TaskValue {
  const tagCount = 2 + Math.floor(random() * 3);
  const tags = new Set<string>();
  while (tags.size < tagCount) tags.add(pick(random, TAGS));
  return {
    title: `Task ${index} v${version}: ${words(random, 3)}`,
    notes: words(random, 14),
    done: random() < 0.3,
    priority: Math.floor(random() * 5),
    tags: [...tags],
  };
}

/** Tasks 0 to `count - 1`, made one at a time (nothing is kept). */
export function* taskStream(count: number, seed = 1): Generator<Task> {
  const random = seededRandom(seed);
  for (let index = 0; index < count; index++) {
    yield { id: taskId(index), value: makeTaskValue(random, index) };
  }
}

export function makeTasks(count: number, seed = 1): Task[] {
  return [...taskStream(count, seed)];
}

/** Mean length of the JSON of a sample of the values. */
export function meanJsonLength(tasks: readonly Task[], sample = 1000): number {
  const n = Math.min(sample, tasks.length);
  let total = 0;
  for (let i = 0; i < n; i++) total += JSON.stringify(tasks[i]!.value).length;
  return n === 0 ? 0 : total / n;
}
