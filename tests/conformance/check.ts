/**
 * Tiny assertions with no test-runner or Node dependency, so conformance suites run the same
 * under vitest in Node and inside a real browser page.
 */
export class CheckError extends Error {
  override readonly name = 'CheckError';
}

function show(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (v === undefined ? '<undefined>' : v));
}

/** Structural equality for JSON-like values (undefined-valued keys count as absent). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) =>
    deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}

export function equal(actual: unknown, expected: unknown, what: string): void {
  if (!deepEqual(actual, expected)) {
    throw new CheckError(`${what}: expected ${show(expected)}, got ${show(actual)}`);
  }
}

export function ok(condition: boolean, what: string): void {
  if (!condition) throw new CheckError(what);
}

/** Asserts that `fn` rejects with a MeshsyncError-like `code` (or any error if code is omitted). */
export async function rejects(
  fn: () => Promise<unknown>,
  code: string | undefined,
  what: string,
): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    const got = (err as { code?: unknown }).code;
    if (code !== undefined && got !== code)
      throw new CheckError(`${what}: expected code ${code}, got ${String(got)} (${String(err)})`);
    return err;
  }
  throw new CheckError(`${what}: expected a rejection`);
}
