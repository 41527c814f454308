import type { DeviceId } from '../shared/ids.js';

/**
 * Who is in which room: room id to device id to the connection speaking for that device. Pure
 * state; the server decides what to tell whom. A room disappears with its last member.
 */
export class RoomRegistry<C> {
  private readonly rooms = new Map<string, Map<DeviceId, C>>();
  private memberCount = 0;

  get roomCount(): number {
    return this.rooms.size;
  }

  get members(): number {
    return this.memberCount;
  }

  /**
   * Puts `conn` in `room` for `device`. Returns the connection it replaced (the same device
   * reconnected before its old socket was dropped), `'full'` when the room is at `max`, or null.
   */
  add(room: string, device: DeviceId, conn: C, max: number): C | 'full' | null {
    let members = this.rooms.get(room);
    const previous = members?.get(device);
    if (previous === conn) return null;
    if (previous === undefined && (members?.size ?? 0) >= max) return 'full';
    if (!members) {
      members = new Map();
      this.rooms.set(room, members);
    }
    members.set(device, conn);
    if (previous === undefined) this.memberCount++;
    return previous ?? null;
  }

  /** Takes `device` out of `room` if `conn` still speaks for it; true when it did. */
  remove(room: string, device: DeviceId, conn: C): boolean {
    const members = this.rooms.get(room);
    if (members?.get(device) !== conn) return false;
    members.delete(device);
    this.memberCount--;
    if (members.size === 0) this.rooms.delete(room);
    return true;
  }

  get(room: string, device: DeviceId): C | undefined {
    return this.rooms.get(room)?.get(device);
  }

  /** The room's members as [device, connection] pairs. */
  entries(room: string): [DeviceId, C][] {
    return [...(this.rooms.get(room) ?? [])];
  }
}
