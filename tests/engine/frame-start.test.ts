import { afterEach, describe, expect, it } from 'vitest';
import type { Peer } from '../../peer/peer.js';
import { createMemoryTransportPair } from '../../peer/transport/memory-transport.js';
import { TransportEmitter } from '../../peer/transport/transport-emitter.js';
import type { Transport, TransportEvents } from '../../peer/transport/transport-port.js';
import type { Unsubscribe } from '../../shared/emitter.js';
import { peekType } from '../../shared/protocol/codec.js';
import { link, memoryPeer } from '../support/peers.js';

/*
 * A transport that carries frames in pieces (WebRTC) can say a frame is arriving before all of
 * it has ('frameStart'): a pull then asks for the next page while the current one is still on
 * its way, so the sender never idles between pages and a lost last packet is never the last
 * thing in flight.
 */

/** Pages arrive slowly, as chunked frames do: the first 200 bytes at once (as a hint, when
 * `hint`), the whole frame 30 ms later; `log` gets 'page' when a whole page is delivered. */
class SlowPages implements Transport {
  readonly kind = 'slow';
  readonly streaming = true;
  private readonly emitter = new TransportEmitter();
  private tail = Promise.resolve();

  constructor(
    private readonly inner: Transport,
    hint: boolean,
    log: string[],
  ) {
    inner.on('message', (frame) => {
      const page = peekType(frame) === 'changes';
      if (page && hint) this.emitter.starting(frame.subarray(0, 200));
      this.tail = this.tail.then(async () => {
        if (page) {
          await new Promise((resolve) => setTimeout(resolve, 30));
          log.push('page');
        }
        this.emitter.deliver(frame);
      });
    });
    inner.on('close', (payload) => this.emitter.closed(payload));
  }

  send(frame: Uint8Array): Promise<void> {
    return this.inner.send(frame);
  }

  close(reason?: string): void {
    this.inner.close(reason);
  }

  on<K extends keyof TransportEvents>(
    event: K,
    listener: (payload: TransportEvents[K]) => void,
  ): Unsubscribe {
    return this.emitter.on(event, listener);
  }
}

const peers: Peer[] = [];
afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.stop()));
});

/** B pulls A's 60 records over slow pages; the order in which A got asks and B got pages. */
async function pullOrder(hint: boolean): Promise<string[]> {
  const a = await memoryPeer(`hintA${hint}`);
  const b = await memoryPeer(`hintB${hint}`);
  peers.push(a, b);
  for (let i = 0; i < 60; i++) await a.collection('x').put(`r${String(i).padStart(2, '0')}`, { i });
  const log: string[] = [];
  const [sa, sb] = await link(
    a,
    b,
    { a: { autoPull: false }, b: { autoPull: false, pageRows: 20 } },
    () => {
      const [ta, tb] = createMemoryTransportPair();
      return [ta, new SlowPages(tb, hint, log)];
    },
  );
  sa.transport.on('message', (frame) => {
    if (peekType(frame) === 'pull') log.push('ask');
  });
  const result = await sb.pull();
  expect(result).toMatchObject({ pages: 6, rows: 60 });
  expect(await b.collection('x').list({ limit: 100 })).toEqual(
    await a.collection('x').list({ limit: 100 }),
  );
  return log;
}

describe("a pull reads a page's head from 'frameStart'", () => {
  it('asks for the next page before the one arriving is whole', async () => {
    const log = await pullOrder(true);
    expect(log.filter((e) => e === 'ask')).toHaveLength(6);
    // The second ask went out on the first page's hint, before that page was whole.
    expect(log.slice(0, 3)).toEqual(['ask', 'ask', 'page']);
  });

  it('without the hint, the next ask waits for the whole page (the control)', async () => {
    const log = await pullOrder(false);
    expect(log.slice(0, 3)).toEqual(['ask', 'page', 'ask']);
  });
});
