/**
 * Settles as `promise` does, or rejects at once with `onAbort()`'s error when `signal` aborts
 * first (`onAbort` runs once, and may do more, such as telling the work to stop). The abort
 * listener is removed either way. `signal` must not have aborted yet.
 */
export function raceAbort<T>(
  promise: Promise<T>,
  signal: AbortSignal,
  onAbort: () => Error,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const listener = (): void => reject(onAbort());
    signal.addEventListener('abort', listener, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', listener);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', listener);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
