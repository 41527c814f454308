/**
 * A small common face over the WebRTC stacks the tests drive (werift, @roamhq/wrtc, Chromium), so one
 * test can pair any two of them: complete (non-trickle) offers and answers as SDP text, and a
 * data channel that sends and receives text.
 */

/** An open data channel: `next()` resolves with the next text message received. */
export interface TestChannel {
  send(text: string): Promise<void>;
  next(): Promise<string>;
}

/** Complete (non-trickle) offer/answer on one connection: SDP texts after ICE gathering. */
export interface Negotiation {
  offer(): Promise<string>;
  answer(offerSdp: string): Promise<string>;
  accept(answerSdp: string): Promise<void>;
}

export interface TestRtcPeer {
  readonly stack: 'werift' | 'wrtc' | 'chromium';
  /** Offerer: opens a data channel and returns the complete offer (ICE gathering finished). */
  offer(): Promise<string>;
  /** Answerer: applies the remote offer and returns the complete answer. */
  answer(offerSdp: string): Promise<string>;
  /** Offerer: applies the remote answer. */
  accept(answerSdp: string): Promise<void>;
  /** The data channel once open (the one `offer()` made, or the one the offerer made). */
  channel(): Promise<TestChannel>;
  /** Closes the connection (wrtc keeps the process alive until every connection is closed). */
  close(): Promise<void>;
}

/** Rejects with a named error when `promise` does not settle within `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Text messages of a channel, queued until asked for. */
export class MessageQueue {
  private readonly queued: string[] = [];
  private readonly waiting: ((text: string) => void)[] = [];

  push(text: string): void {
    const waiter = this.waiting.shift();
    if (waiter) waiter(text);
    else this.queued.push(text);
  }

  next(): Promise<string> {
    const text = this.queued.shift();
    if (text !== undefined) return Promise.resolve(text);
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}
