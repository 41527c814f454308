import { toMeshsyncError, type MeshsyncError } from '../../shared/errors.js';
import { LIMITS } from '../../shared/limits.js';
import { encodeMessage } from '../../shared/protocol/codec.js';
import type { Transport } from '../transport/transport-port.js';

/**
 * A session's way out: sends frames on the transport, counts their bytes, and reports a failed
 * send (the session then closes) instead of letting it escape as an unhandled rejection.
 */
export class Outbox {
  constructor(
    private readonly transport: Transport,
    private readonly stats: { bytesOut: number },
    private readonly isClosed: () => boolean,
    private readonly onFailure: (error: MeshsyncError) => void,
  ) {}

  /** Sends without waiting. */
  send(frame: Uint8Array): void {
    void this.sendAsync(frame);
  }

  /** Sends and waits until the transport can take more (backpressure). */
  async sendAsync(frame: Uint8Array): Promise<void> {
    if (this.isClosed()) return;
    try {
      this.stats.bytesOut += frame.length;
      await this.transport.send(frame);
    } catch (err) {
      this.onFailure(toMeshsyncError(err, 'CLOSED'));
    }
  }

  /** Sends an `error` answering request `req` (0: no request). */
  sendError(req: number, error: MeshsyncError): void {
    // The code travels in its own field: send the message without its "CODE: " prefix.
    const prefix = `${error.code}: `;
    const text = error.message.startsWith(prefix)
      ? error.message.slice(prefix.length)
      : error.message;
    this.send(
      encodeMessage({
        type: 'error',
        req,
        code: error.code,
        message: text.slice(0, LIMITS.maxErrorMessage),
      }),
    );
  }
}
