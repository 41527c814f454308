import type { PeerRuntime } from './peer-runtime.js';
import { formatStatus } from './running-status.js';

const REDRAW_MS = 250;
const TICK_MS = 1000;

/**
 * The live status of `meshsync start` on a terminal: the status block (peers, transport per
 * peer, last sync, a progress bar per long sync) redrawn in place when it changes and once a
 * second. Off a terminal it draws nothing: logs say what happens.
 */
export class LiveView {
  private lines = 0;
  private pending: ReturnType<typeof setTimeout> | undefined;
  private readonly tick: ReturnType<typeof setInterval>;
  private readonly off: () => void;

  constructor(
    private readonly runtime: PeerRuntime,
    private readonly out: NodeJS.WriteStream = process.stdout,
  ) {
    this.off = runtime.events.on('changed', () => this.schedule());
    this.tick = setInterval(() => this.draw(), TICK_MS);
    this.tick.unref();
    this.draw();
  }

  private schedule(): void {
    this.pending ??= setTimeout(() => {
      this.pending = undefined;
      this.draw();
    }, REDRAW_MS);
  }

  private draw(): void {
    const width = Math.max(20, (this.out.columns || 100) - 1);
    const lines = formatStatus(this.runtime.status()).map((l) => l.slice(0, width));
    // Up to where the last block started, clear to the end of the screen, draw again.
    const up = this.lines > 0 ? `\x1b[${this.lines}F\x1b[0J` : '';
    this.out.write(up + lines.join('\n') + '\n');
    this.lines = lines.length;
  }

  stop(): void {
    this.off();
    clearInterval(this.tick);
    clearTimeout(this.pending);
  }
}
