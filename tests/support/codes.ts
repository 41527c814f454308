import { isMeshsyncError } from '../../shared/errors.js';

/** The MeshsyncError code `fn` throws, 'ok' when it returns, or a description of anything else. */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    return isMeshsyncError(err) ? err.code : `not a MeshsyncError: ${String(err)}`;
  }
}

/** The code `promise` rejects with, or 'resolved'. */
export async function rejectionCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (err) {
    return isMeshsyncError(err) ? err.code : `not a MeshsyncError: ${String(err)}`;
  }
}
