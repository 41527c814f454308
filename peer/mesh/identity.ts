import { MeshsyncError } from '../../shared/errors.js';
import { importIdentity, type Identity } from '../../shared/crypto/identity.js';
import type { Peer } from '../peer.js';
import { META_IDENTITY } from '../replica.js';
import type { SyncOptions } from '../sync/session-types.js';
import { MESH_COLLECTIONS } from './member-record.js';

/** The sync options a mesh session needs: its own collections always travel. */
export function meshSync(options: SyncOptions): SyncOptions {
  const want = options.want;
  if (want === undefined || want === null) return options;
  return { ...options, want: [...new Set([...want, ...MESH_COLLECTIONS])] };
}

/** The stored identity of a peer; only stores created without an explicit `device` have one. */
export async function peerIdentity(peer: Peer): Promise<Identity> {
  const text = await peer.replica.store.getMeta(META_IDENTITY);
  if (text === undefined) {
    throw new MeshsyncError(
      'MESH_STATE',
      `device ${peer.device} has no key pair: it was created with an explicit device id`,
    );
  }
  const identity = importIdentity(text);
  if (identity.device !== peer.device) {
    throw new MeshsyncError('STORE_CORRUPT', 'stored key pair does not match the device id');
  }
  return identity;
}
