import { MeshsyncError } from '../errors.js';

/**
 * Remembers tokens already used until they expire, so each is accepted once. Keep one per
 * device for the tokens it issued; the mesh keeps invites in synced data instead, so any member
 * refuses an invite another member already took.
 */
export class SingleUse {
  private readonly seen = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Marks `id` used; throws TOKEN_USED if it already was. */
  consume(id: string, expiresAt: number): void {
    this.prune();
    if (this.seen.has(id)) throw new MeshsyncError('TOKEN_USED', 'this token was already used');
    this.seen.set(id, expiresAt);
  }

  has(id: string): boolean {
    this.prune();
    return this.seen.has(id);
  }

  private prune(): void {
    const now = this.now();
    for (const [id, expiresAt] of this.seen) if (expiresAt <= now) this.seen.delete(id);
  }
}
