import nacl from 'tweetnacl';
import { MeshsyncError } from '../errors.js';
import { FRAME_FORMAT } from '../limits.js';
import { AUTH_TYPES, authBody } from './auth-frames.js';

const COUNTER_BYTES = 8;
/** Counter (8) plus secretbox overhead (16) over the inner frame. */
export const SEALED_OVERHEAD = 8 + COUNTER_BYTES + nacl.secretbox.overheadLength;

function nonceFor(counter: number): Uint8Array {
  const nonce = new Uint8Array(nacl.secretbox.nonceLength);
  new DataView(nonce.buffer).setBigUint64(nonce.length - COUNTER_BYTES, BigInt(counter));
  return nonce;
}

/**
 * Seals frames for one direction of a session: secretbox under the direction's key, the nonce
 * a counter that starts at 0 and never repeats. Frames: header (type 19) | counter | box.
 */
export class FrameSealer {
  private counter = 0;

  constructor(private readonly key: Uint8Array) {}

  seal(inner: Uint8Array): Uint8Array {
    const counter = this.counter++;
    const box = nacl.secretbox(inner, nonceFor(counter), this.key);
    const out = new Uint8Array(8 + COUNTER_BYTES + box.length);
    out.set([0x4d, 0x53, FRAME_FORMAT, AUTH_TYPES.sealed]);
    const view = new DataView(out.buffer);
    view.setUint32(4, COUNTER_BYTES + box.length);
    view.setBigUint64(8, BigInt(counter));
    out.set(box, 8 + COUNTER_BYTES);
    return out;
  }
}

/**
 * Opens the other direction's frames. Each must carry exactly the next counter, so a replayed,
 * dropped or reordered frame is refused (`FRAME_REJECTED`), as is any altered byte.
 */
export class FrameOpener {
  private expected = 0;

  constructor(
    private readonly key: Uint8Array,
    private readonly maxInnerBytes: number,
  ) {}

  open(frame: Uint8Array): Uint8Array {
    const body = authBody(
      frame,
      'sealed',
      COUNTER_BYTES + nacl.secretbox.overheadLength + this.maxInnerBytes,
    );
    if (body.length < COUNTER_BYTES + nacl.secretbox.overheadLength) {
      throw new MeshsyncError('FRAME_REJECTED', 'sealed frame too short');
    }
    const counter = Number(new DataView(body.buffer, body.byteOffset, 8).getBigUint64(0));
    if (counter !== this.expected) {
      throw new MeshsyncError(
        'FRAME_REJECTED',
        `frame ${counter} where ${this.expected} was due (replayed or reordered)`,
      );
    }
    const inner = nacl.secretbox.open(body.subarray(COUNTER_BYTES), nonceFor(counter), this.key);
    if (inner === null)
      throw new MeshsyncError('FRAME_REJECTED', 'sealed frame does not authenticate');
    this.expected++;
    return inner;
  }
}
