import { MeshsyncError } from './errors.js';

declare const brand: unique symbol;
/** A nominal type: a `T` that has passed the validator of `B`. */
export type Brand<T, B extends string> = T & { readonly [brand]: B };

/** A device's printable id (later derived from its public key). */
export type DeviceId = Brand<string, 'DeviceId'>;
/** A collection name, e.g. `tasks`. */
export type CollectionName = Brand<string, 'CollectionName'>;
/** A record id inside a collection. */
export type RecordId = Brand<string, 'RecordId'>;
/** A store's local sequence number: every applied change gets the next one. */
export type Seq = Brand<number, 'Seq'>;

export const DEVICE_ID_PATTERN = /^[A-Za-z0-9_-]{4,64}$/;
export const COLLECTION_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
export const MAX_RECORD_ID_LENGTH = 256;
export const MAX_FIELD_NAME_LENGTH = 128;
/** Field names that would touch an object's prototype when assigned. */
const FORBIDDEN_FIELDS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export function isDeviceId(value: unknown): value is DeviceId {
  return typeof value === 'string' && DEVICE_ID_PATTERN.test(value);
}

export function isCollectionName(value: unknown): value is CollectionName {
  return typeof value === 'string' && COLLECTION_PATTERN.test(value);
}

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/** Record ids: 1 to 256 UTF-16 units, no control characters. */
export function isRecordId(value: unknown): value is RecordId {
  return (
    typeof value === 'string' &&
    value.length >= 1 &&
    value.length <= MAX_RECORD_ID_LENGTH &&
    !CONTROL_CHARS.test(value)
  );
}

/** Field names: 1 to 128 UTF-16 units, not a prototype key, no control characters. */
export function isFieldName(value: string): boolean {
  return (
    value.length >= 1 &&
    value.length <= MAX_FIELD_NAME_LENGTH &&
    !FORBIDDEN_FIELDS.has(value) &&
    !CONTROL_CHARS.test(value)
  );
}

export function isSeq(value: unknown): value is Seq {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

export function asDeviceId(value: string): DeviceId {
  if (!isDeviceId(value)) {
    throw new MeshsyncError('INVALID_ID', `device id must match ${DEVICE_ID_PATTERN}`, {
      details: { value },
    });
  }
  return value;
}

export function asCollectionName(value: string): CollectionName {
  if (!isCollectionName(value)) {
    throw new MeshsyncError('INVALID_ID', `collection name must match ${COLLECTION_PATTERN}`, {
      details: { value },
    });
  }
  return value;
}

export function asRecordId(value: string): RecordId {
  if (!isRecordId(value)) {
    throw new MeshsyncError(
      'INVALID_ID',
      `record id must be 1-${MAX_RECORD_ID_LENGTH} characters without control characters`,
      { details: { value: typeof value === 'string' ? value.slice(0, 64) : typeof value } },
    );
  }
  return value;
}

const ID_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** A random lowercase base36 string of `length` characters from injected randomness. */
export function randomId(random: (n: number) => Uint8Array, length = 16): string {
  const bytes = random(length);
  let out = '';
  for (const b of bytes) out += ID_ALPHABET[b % 36];
  return out;
}
