import { MeshsyncError } from '../../shared/errors.js';
import type { DeviceId } from '../../shared/ids.js';
import type { RoomKeys } from '../../shared/secure/room.js';

type PresenceEvent = 'online' | 'offline';

/**
 * A signaling client's view of one room: whether it is joined, who else is present, and the
 * `join()` calls waiting for it. Presence changes go out through `emit`, so a reconnect that
 * finds a different member list reports exactly the differences.
 */
export class ClientRoom {
  joined = false;
  readonly members = new Set<DeviceId>();
  private readonly waiters = new Set<{
    resolve: (members: DeviceId[]) => void;
    reject: (err: MeshsyncError) => void;
  }>();

  constructor(
    readonly keys: RoomKeys,
    private readonly emit: (event: PresenceEvent, device: DeviceId) => void,
  ) {}

  get id(): string {
    return this.keys.roomId;
  }

  /** The server's member list after a join: report who came and went, wake the waiters. */
  joinedWith(members: DeviceId[]): DeviceId[] {
    this.joined = true;
    const now = new Set(members);
    for (const id of [...this.members]) if (!now.has(id)) this.presence('offline', id);
    for (const id of now) if (!this.members.has(id)) this.presence('online', id);
    const list = [...now];
    for (const waiter of [...this.waiters]) waiter.resolve(list);
    return list;
  }

  /** One member arrived or left; false when that changes nothing. */
  presence(event: PresenceEvent, device: DeviceId): boolean {
    if (event === 'online' ? this.members.has(device) : !this.members.has(device)) return false;
    if (event === 'online') this.members.add(device);
    else this.members.delete(device);
    this.emit(event, device);
    return true;
  }

  /** The connection is gone: everyone is offline until the next join. */
  clear(): void {
    this.joined = false;
    for (const id of [...this.members]) this.presence('offline', id);
  }

  /** Fails every waiting `join()`. */
  fail(error: MeshsyncError): void {
    for (const waiter of [...this.waiters]) waiter.reject(error);
  }

  /** Waits for the join: TIMEOUT after `timeoutMs`, ABORTED with the signal. */
  wait(timeoutMs: number, signal?: AbortSignal): Promise<DeviceId[]> {
    if (this.joined) return Promise.resolve([...this.members]);
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: (members: DeviceId[]) => done(() => resolve(members)),
        reject: (err: MeshsyncError) => done(() => reject(err)),
      };
      const timeout = setTimeout(
        () => waiter.reject(new MeshsyncError('TIMEOUT', 'joining the room took too long')),
        timeoutMs,
      );
      const onAbort = () => waiter.reject(new MeshsyncError('ABORTED', 'join aborted'));
      const done = (settle: () => void) => {
        clearTimeout(timeout);
        signal?.removeEventListener('abort', onAbort);
        this.waiters.delete(waiter);
        settle();
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort);
      this.waiters.add(waiter);
    });
  }
}
