import { MeshsyncError } from '../shared/errors.js';
import {
  asCollectionName,
  asRecordId,
  isFieldName,
  type CollectionName,
  type RecordId,
} from '../shared/ids.js';
import { checkJsonValue, type JsonObject, type JsonValue } from '../shared/json.js';
import { LIMITS } from '../shared/limits.js';
import { isPlainObject } from '../shared/schema.js';

/** Checks an application's record value and returns a private deep copy of it. */
export function copyRecordValue(value: unknown, what: string): JsonObject {
  if (!isPlainObject(value)) {
    throw new MeshsyncError('INVALID_VALUE', `${what}: a record must be a plain object`);
  }
  return copyFields(value, what, false) as JsonObject;
}

/** Checks a patch (values may be `undefined` to remove a field) and copies it. */
export function copyPatch(value: unknown, what: string): Record<string, JsonValue | undefined> {
  if (!isPlainObject(value)) {
    throw new MeshsyncError('INVALID_VALUE', `${what}: a patch must be a plain object`);
  }
  return copyFields(value, what, true);
}

function copyFields(
  value: Record<string, unknown>,
  what: string,
  allowUndefined: boolean,
): Record<string, JsonValue | undefined> {
  const names = Object.keys(value);
  if (names.length > LIMITS.maxFields) {
    throw new MeshsyncError('VALUE_TOO_LARGE', `${what}: more than ${LIMITS.maxFields} fields`);
  }
  const out: Record<string, JsonValue | undefined> = {};
  let size = 2;
  for (const name of names) {
    if (!isFieldName(name)) {
      throw new MeshsyncError(
        'INVALID_VALUE',
        `${what}: invalid field name ${JSON.stringify(name.slice(0, 40))}`,
      );
    }
    const v = value[name];
    if (v === undefined && allowUndefined) {
      out[name] = undefined;
      continue;
    }
    checkJsonValue(v, `${what}.${name}`, 'INVALID_VALUE');
    const json = JSON.stringify(v);
    size += json.length + name.length + 4;
    if (size > LIMITS.maxRecordBytes) {
      throw new MeshsyncError(
        'VALUE_TOO_LARGE',
        `${what}: record exceeds ${LIMITS.maxRecordBytes} bytes`,
      );
    }
    out[name] = JSON.parse(json) as JsonValue;
  }
  return out;
}

export function checkKey(collection: string, id: string): [CollectionName, RecordId] {
  return [asCollectionName(collection), asRecordId(id)];
}
