import { MeshsyncError } from '../../shared/errors.js';
import type { CollectionName, DeviceId } from '../../shared/ids.js';
import { LIMITS, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION } from '../../shared/limits.js';
import type { HelloMessage } from '../../shared/protocol/messages.js';

/** What we know of the other side once its hello is accepted. */
export interface Remote {
  device: DeviceId;
  epoch: string;
  /** Collections it wants (null = all), as a set and as the sorted list it sent. */
  want: ReadonlySet<string> | null;
  wantList: CollectionName[] | null;
  maxFrame: number;
  caps: readonly string[];
  /** The protocol version both sides speak. */
  version: number;
}

/** Sorted, de-duplicated collection list (null = all). */
export function normaliseWant(want: readonly string[] | null): CollectionName[] | null {
  return want === null ? null : ([...new Set(want)].sort() as CollectionName[]);
}

export function buildHello(
  device: DeviceId,
  epoch: string,
  want: CollectionName[] | null,
  caps: readonly string[],
  /** The transport: its own frame limit counts when below the protocol's. */
  transport: { readonly maxFrameBytes?: number } = {},
): HelloMessage {
  return {
    type: 'hello',
    min: MIN_PROTOCOL_VERSION,
    max: PROTOCOL_VERSION,
    device,
    epoch,
    caps: [...caps],
    want,
    maxFrame: Math.min(transport.maxFrameBytes ?? LIMITS.maxFrameBytes, LIMITS.maxFrameBytes),
  };
}

/**
 * Checks a remote hello against ours: a common protocol version (the highest both speak) and a
 * device id that is not our own. Throws `PROTOCOL_VERSION` or `PROTOCOL_STATE`.
 */
export function acceptHello(
  hello: HelloMessage,
  ownDevice: DeviceId,
  authenticated?: DeviceId,
): Remote {
  const version = Math.min(hello.max, PROTOCOL_VERSION);
  if (hello.min > hello.max || version < Math.max(hello.min, MIN_PROTOCOL_VERSION)) {
    throw new MeshsyncError(
      'PROTOCOL_VERSION',
      `no common protocol version (we speak ${MIN_PROTOCOL_VERSION}-${PROTOCOL_VERSION}, remote ${hello.min}-${hello.max})`,
    );
  }
  if (hello.device === ownDevice) {
    throw new MeshsyncError('PROTOCOL_STATE', 'remote uses our own device id');
  }
  if (authenticated !== undefined && hello.device !== authenticated) {
    throw new MeshsyncError(
      'AUTH_FAILED',
      `remote authenticated as ${authenticated} but says it is ${hello.device}`,
    );
  }
  const wantList = normaliseWant(hello.want);
  return {
    device: hello.device,
    epoch: hello.epoch,
    want: wantList === null ? null : new Set(wantList),
    wantList,
    maxFrame: hello.maxFrame,
    caps: hello.caps,
    version,
  };
}
