import { concatBytes } from '../../shared/crypto/bytes.js';
import { MeshsyncError, type ErrorCode } from '../../shared/errors.js';
import { parseDirectError } from '../../shared/direct/tunnel-answers.js';
import type { FetchLike, FetchResponseLike } from './fetch-port.js';

export interface PostOptions {
  /** The request, answer included, must end within this. */
  timeoutMs: number;
  /** Largest answer body read; a longer one fails with FRAME_TOO_LARGE. */
  maxBytes: number;
  /** Code of a request that fails below HTTP (refused, reset, DNS). */
  failCode: ErrorCode;
  signal?: AbortSignal;
}

export interface PostAnswer {
  status: number;
  body: Uint8Array;
}

/**
 * POSTs `body` and reads the answer up to a size limit. Rejects with TIMEOUT, ABORTED (the
 * caller's signal), FRAME_TOO_LARGE, or `failCode` when the request itself fails.
 */
export async function postBytes(
  fetch: FetchLike,
  url: string,
  body: Uint8Array<ArrayBuffer>,
  options: PostOptions,
): Promise<PostAnswer> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, options.timeoutMs);
  const { signal } = options;
  const onAbort = (): void => controller.abort();
  signal?.addEventListener('abort', onAbort);
  try {
    if (signal?.aborted) throw new MeshsyncError('ABORTED', 'request aborted');
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body,
      signal: controller.signal,
    });
    return { status: response.status, body: await readBody(response, options.maxBytes) };
  } catch (err) {
    if (err instanceof MeshsyncError) throw err;
    if (timedOut) throw new MeshsyncError('TIMEOUT', `no answer within ${options.timeoutMs} ms`);
    if (signal?.aborted) throw new MeshsyncError('ABORTED', 'request aborted');
    throw new MeshsyncError(options.failCode, `request failed: ${describe(err)}`, { cause: err });
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/** The coded error an answer with a failure status stands for (from its JSON error body). */
export function answerError(answer: PostAnswer, fallback: ErrorCode): MeshsyncError {
  const remote = parseDirectError(answer.body);
  return new MeshsyncError(
    remote?.code ?? fallback,
    `HTTP ${answer.status}${remote ? `: ${remote.message}` : ''}`,
    { details: { status: answer.status } },
  );
}

async function readBody(response: FetchResponseLike, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  const tooLarge = (): MeshsyncError =>
    new MeshsyncError('FRAME_TOO_LARGE', `answer over ${maxBytes} bytes`);
  if (declared > maxBytes) {
    await response.body?.getReader().cancel();
    throw tooLarge();
  }
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (!value) continue;
    size += value.length;
    if (size > maxBytes) {
      await reader.cancel();
      throw tooLarge();
    }
    parts.push(value);
  }
  return parts.length === 1 ? parts[0]! : concatBytes(...parts);
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // Node's fetch hides the reason (ECONNREFUSED...) in `cause`.
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}
