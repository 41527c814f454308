import { MeshsyncError, toMeshsyncError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import type { SyncSession } from '../sync/session.js';
import type { Timers } from '../sync/session-types.js';
import type { PeerLink } from './link.js';

/** A positive option, or its default; anything else is INVALID_OPTION. */
export function checkPositive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new MeshsyncError('INVALID_OPTION', `${name} must be a positive number`, {
      details: { value },
    });
  }
  return value;
}

/**
 * What keeps a kept session alive and in sync.
 *
 * Dead-peer detection: every `everyMs` the session pulls (cheap when in sync, and it is the
 * periodic pull too). A pull that neither finishes nor shows progress for `timeoutMs` means the
 * other device or the path is gone: the session is closed, and the manager reconnects. A long
 * transfer is not mistaken for a dead peer: every page it moves counts as an answer.
 */
export class Upkeep {
  constructor(
    private readonly o: {
      everyMs: number;
      timeoutMs: number;
      syncIntervalMs: number;
      timers: Timers;
      log: Logger;
    },
  ) {}

  /** A full sync (pull and push) every `syncIntervalMs`, whatever else happens. */
  syncEvery(link: PeerLink, session: SyncSession): void {
    link.schedule('sync', this.o.syncIntervalMs, () => {
      if (link.session !== session) return;
      session.sync().catch((err: unknown) => {
        const error = toMeshsyncError(err, 'CLOSED');
        this.o.log.warn('mesh manager: periodic sync failed', {
          device: link.device,
          code: error.code,
        });
      });
      this.syncEvery(link, session);
    });
  }

  watch(link: PeerLink, session: SyncSession, dead: (reason: string) => void): void {
    link.schedule('heartbeat', this.o.everyMs, () => this.beat(link, session, dead));
  }

  private beat(link: PeerLink, session: SyncSession, dead: (reason: string) => void): void {
    if (link.session !== session || session.state === 'closed') return;
    let settled = false;
    let progressed = false;
    const offProgress = session.events.on('progress', () => (progressed = true));
    const check = (): void => {
      if (settled || link.session !== session) return;
      if (progressed) {
        progressed = false;
        link.schedule('heartbeat', this.o.timeoutMs, check);
        return;
      }
      offProgress();
      dead(`no answer to a heartbeat for ${this.o.timeoutMs} ms`);
    };
    session.pull().then(
      () => {
        settled = true;
        offProgress();
        if (link.session === session) this.watch(link, session, dead);
      },
      () => {
        settled = true;
        offProgress();
        // A failed pull closes nothing by itself; a closed session is handled by the manager.
        if (link.session === session && session.state !== 'closed') {
          this.watch(link, session, dead);
        }
      },
    );
    link.schedule('heartbeat', this.o.timeoutMs, check);
  }
}
