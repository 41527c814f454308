import type { Stamp } from './hlc.js';
import type { Brand, CollectionName, DeviceId, RecordId } from './ids.js';
import type { JsonValue } from './json.js';

/**
 * The state of one top-level field: the stamp of its last write, the stamp of the value that
 * write replaced (`p`, used to tell a concurrent edit from a sequential one), and its value.
 * A field without `v` was removed at stamp `s`.
 */
export interface FieldState {
  s: Stamp;
  p?: Stamp;
  v?: JsonValue;
}

/**
 * The mergeable state of one record: the wire form of a row and the core of what stores keep.
 * `a` is the newest write that asserted the record exists (put or patch), `d` the newest delete;
 * the record is visible when `a > d`. Fields older than `d` are pruned.
 */
export interface RecordState {
  c: CollectionName;
  i: RecordId;
  a: Stamp | null;
  d: Stamp | null;
  f: Record<string, FieldState>;
}

/** A record as a store keeps it: its state, its local sequence number and where it came from. */
export interface StoredRecord extends RecordState {
  /** Local sequence number of the last change applied to this record. */
  seq: number;
  /**
   * The origin of this exact state: the device and store epoch whose page set it (see
   * `originTag`), or null if it was written or merged here. A record is not sent back to its
   * origin (no echo); a device that returns with a new store is a new origin and gets it back.
   */
  o: OriginTag | null;
}

/** A same-field conflict: both values were written without seeing the other. */
export interface ConflictEntry {
  /** Stable key: collection, id, field and the losing stamp. */
  key: string;
  collection: CollectionName;
  id: RecordId;
  field: string;
  winner: FieldState;
  loser: FieldState;
  /** Local wall-clock ms when this device noticed the conflict. */
  at: number;
}

/** A device and one of its store epochs, as `device@epoch`. */
export type OriginTag = Brand<string, 'OriginTag'>;

export function originTag(device: DeviceId, epoch: string): OriginTag {
  return `${device}@${epoch}` as OriginTag;
}

/** Key of a record in maps and stores. */
export function recordKey(collection: string, id: string): string {
  return `${collection}\u0000${id}`;
}
