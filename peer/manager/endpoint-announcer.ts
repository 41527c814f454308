import type { DeviceId } from '../../shared/ids.js';
import type { Logger } from '../../shared/log.js';
import type { Endpoint } from '../../shared/token/endpoint.js';
import type { Mesh } from '../mesh/mesh.js';
import { ENDPOINTS } from '../mesh/member-record.js';
import type { RtcConnector } from '../rtc/rtc-connector.js';
import { endpointRecord } from './endpoint-book.js';

/**
 * Tells the other members where this device listens: in the mesh's synced `_mesh.endpoints`
 * record of this device (every member learns it on its next sync), and in a sealed `where`
 * signal to each member seen online on the signaling server (so two devices that have never
 * synced since one started listening can still find each other's direct endpoint).
 */
export class EndpointAnnouncer {
  /** Devices told through signaling since they came online. */
  private readonly told = new Set<DeviceId>();

  constructor(
    private readonly mesh: Mesh,
    private readonly endpoints: (() => Endpoint[]) | undefined,
    private readonly rtc: RtcConnector | undefined,
    private readonly log: Logger,
  ) {}

  /** Tells `device`, once while it stays online, where we listen. */
  tell(device: DeviceId): void {
    const endpoints = this.endpoints?.() ?? [];
    const { rtc } = this;
    if (!rtc || endpoints.length === 0 || device === this.mesh.device || this.told.has(device)) {
      return;
    }
    this.told.add(device);
    rtc.tellEndpoints(device, endpoints).catch((err: unknown) => {
      this.told.delete(device);
      this.log.warn('mesh manager: could not send endpoints', { device, error: String(err) });
    });
  }

  /** `device` went offline: tell it again when it is back (it may have restarted). */
  forget(device: DeviceId): void {
    this.told.delete(device);
  }

  /** Writes this device's `_mesh.endpoints` record when it changed. */
  async publish(now: number): Promise<void> {
    const endpoints = this.endpoints?.() ?? [];
    const collection = this.mesh.peer.collection(ENDPOINTS);
    const current = await collection.get(this.mesh.device);
    const record = endpointRecord(endpoints, now);
    if (JSON.stringify(current?.endpoints ?? []) === JSON.stringify(record.endpoints)) return;
    if (endpoints.length === 0 && current === null) return;
    await collection.put(this.mesh.device, record);
  }
}
