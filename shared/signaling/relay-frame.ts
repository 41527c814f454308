import { MeshsyncError } from '../errors.js';
import type { DeviceId } from '../ids.js';
import { fromBase64url, toBase64url } from '../crypto/bytes.js';
import { SIGNALING_DEVICE_PATTERN } from './messages.js';

/**
 * Relay frames: the binary WebSocket messages that carry end-to-end encrypted sync frames between
 * two members of a room. One layout both ways; the server replaces the addressee with the sender
 * it authenticated and forwards the payload, which it cannot read:
 *
 *   kind (1 byte, 0x01) | room id (32 bytes, the room's public key) | device id (16 ASCII) | payload
 */
export const RELAY_KIND = 0x01;
export const RELAY_HEADER_BYTES = 1 + 32 + 16;

export interface RelayFrame {
  room: string;
  /** The addressee (client to server) or the sender (server to client). */
  device: DeviceId;
  payload: Uint8Array;
}

export function encodeRelayFrame(room: string, device: DeviceId, payload: Uint8Array): Uint8Array {
  const key = fromBase64url(room, 'INVALID_VALUE', 'room id');
  if (key.length !== 32 || !SIGNALING_DEVICE_PATTERN.test(device)) {
    throw new MeshsyncError('INVALID_VALUE', 'relay frame needs a room id and a device id');
  }
  const out = new Uint8Array(RELAY_HEADER_BYTES + payload.length);
  out[0] = RELAY_KIND;
  out.set(key, 1);
  for (let k = 0; k < 16; k++) out[33 + k] = device.charCodeAt(k);
  out.set(payload, RELAY_HEADER_BYTES);
  return out;
}

/** Reads a relay frame's header; BAD_FRAME when it is not one. The payload is a view. */
export function decodeRelayFrame(bytes: Uint8Array): RelayFrame {
  if (bytes.length < RELAY_HEADER_BYTES || bytes[0] !== RELAY_KIND) {
    throw new MeshsyncError('BAD_FRAME', 'not a relay frame');
  }
  const device = readDevice(bytes);
  if (device === null) throw new MeshsyncError('BAD_FRAME', 'relay frame has a bad device id');
  return {
    room: toBase64url(bytes.subarray(1, 33)),
    device,
    payload: bytes.subarray(RELAY_HEADER_BYTES),
  };
}

/** Writes `device` over the frame's device field in place (the server's sender stamp). */
export function stampRelayFrame(bytes: Uint8Array, device: DeviceId): void {
  for (let k = 0; k < 16; k++) bytes[33 + k] = device.charCodeAt(k);
}

function readDevice(bytes: Uint8Array): DeviceId | null {
  let id = '';
  for (let k = 33; k < RELAY_HEADER_BYTES; k++) id += String.fromCharCode(bytes[k]!);
  return SIGNALING_DEVICE_PATTERN.test(id) ? (id as DeviceId) : null;
}
