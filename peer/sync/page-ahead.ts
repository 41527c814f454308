import type { BuiltPage } from './page-builder.js';

/** What a page was asked for with: where it starts and its size limits. */
export interface PageAsk {
  after: number;
  rows: number;
  bytes: number;
}

interface Prepared extends PageAsk {
  /** The page, and the store's last seq when its build started; null if the build failed. */
  built: Promise<{ seq: number; page: BuiltPage } | null>;
}

/**
 * The page a remote will most likely ask for next (the one after the page just sent to it),
 * built while it takes in that one, so the ask is answered at once. Used only if the ask is
 * exactly that one and the store has not changed since; otherwise the page is built afresh.
 */
export class PageAhead {
  private prepared: Prepared | undefined;

  /** Starts building the page for `ask`. */
  prepare(ask: PageAsk, lastSeq: () => Promise<number>, build: () => Promise<BuiltPage>): void {
    const built = (async () => {
      const seq = await lastSeq();
      return { seq, page: await build() };
    })().catch(() => null); // a failed guess is built again when asked for
    this.prepared = { after: ask.after, rows: ask.rows, bytes: ask.bytes, built };
  }

  /** The page prepared for `ask` if the store's last seq is still `seq`, else null. */
  async take(ask: PageAsk, seq: number): Promise<BuiltPage | null> {
    const prepared = this.prepared;
    this.prepared = undefined;
    if (
      !prepared ||
      prepared.after !== ask.after ||
      prepared.rows !== ask.rows ||
      prepared.bytes !== ask.bytes
    )
      return null;
    const built = await prepared.built;
    return built && built.seq === seq ? built.page : null;
  }
}
