import type { Unsubscribe } from '../shared/emitter.js';
import type { CollectionName, RecordId } from '../shared/ids.js';
import type { JsonObject } from '../shared/json.js';
import { changeEvents, type ChangeEvent, type Replica } from './replica.js';
import { checkKey, copyPatch, copyRecordValue } from './validate-local.js';
import { asCollectionName } from '../shared/ids.js';

export interface ListQuery {
  /** Only ids after this one (for paging). */
  after?: string;
  /** @default 1000 */
  limit?: number;
}

/**
 * The application's view of one collection: records are plain JSON objects addressed by id.
 * Writes are durable when their promise resolves (as durable as the store).
 */
export class Collection<T extends JsonObject = JsonObject> {
  readonly name: CollectionName;

  constructor(
    private readonly replica: Replica,
    name: string,
  ) {
    this.name = asCollectionName(name);
  }

  /** Stores `value` as the whole record: fields it lacks are removed. Returns the stored value. */
  async put(id: string, value: T): Promise<T> {
    const [c, i] = checkKey(this.name, id);
    return (await this.replica.put(c, i, copyRecordValue(value, `${c}/${i}`))) as T;
  }

  /**
   * Puts many records in one transaction (a bulk import): all are written or, if one is
   * invalid, none. Returns how many were written.
   */
  async putMany(entries: Iterable<readonly [string, T]>): Promise<number> {
    const checked: Array<[RecordId, JsonObject]> = [];
    for (const [id, value] of entries) {
      const [c, i] = checkKey(this.name, id);
      checked.push([i, copyRecordValue(value, `${c}/${i}`)]);
    }
    return this.replica.putMany(this.name, checked);
  }

  /** Sets some fields (a field set to `undefined` is removed). Throws `NOT_FOUND` if absent. */
  async patch(id: string, changes: Partial<{ [K in keyof T]: T[K] | undefined }>): Promise<T> {
    const [c, i] = checkKey(this.name, id);
    return (await this.replica.patch(c, i, copyPatch(changes, `${c}/${i}`))) as T;
  }

  /** Deletes the record (a tombstone syncs to other devices). False if it did not exist. */
  delete(id: string): Promise<boolean> {
    const [c, i] = checkKey(this.name, id);
    return this.replica.delete(c, i);
  }

  async get(id: string): Promise<T | null> {
    const [c, i] = checkKey(this.name, id);
    return (await this.replica.get(c, i)) as T | null;
  }

  /** Visible records in id order. */
  async list(query: ListQuery = {}): Promise<Array<{ id: RecordId; value: T }>> {
    return (await this.replica.list(this.name, query.after, query.limit ?? 1000)) as Array<{
      id: RecordId;
      value: T;
    }>;
  }

  /** Calls `listener` for every change to this collection, local or remote. */
  subscribe(listener: (change: ChangeEvent & { value: T | null }) => void): Unsubscribe {
    return this.replica.events.on('applied', (batch) => {
      for (const change of changeEvents(batch, this.name))
        listener(change as ChangeEvent & { value: T | null });
    });
  }
}
