import { MeshsyncError } from '../errors.js';
import { MAX_ENDPOINTS } from '../token/endpoint.js';
import {
  arr,
  bool,
  int,
  isPlainObject,
  literal,
  nullable,
  obj,
  str,
  type Schema,
  fail,
} from '../schema.js';

/**
 * What two devices say to set up a WebRTC connection through a signaling server, each one a
 * sealed signal (signed by the sender's device key, encrypted under the mesh secret): JSON
 * with `t` naming the kind and `a` the connection attempt it belongs to. Validated field by
 * field after opening; PROTOCOL.md section 22.
 *
 * - `knock`: "offer me a connection" (from the device that does not offer; see `isInitiator`);
 * - `offer` / `answer`: the SDP;
 * - `candidates`: trickled ICE candidates, batched; `done` once gathering is complete;
 * - `bye`: the attempt is abandoned (timeout, refusal), with the reason;
 * - `where`: the sender's direct endpoints (where it listens), for when WebRTC fails. No attempt.
 */
export const RTC_SIGNAL_VERSION = 1;
export const MAX_SDP_CHARS = 12 * 1024;
export const MAX_CANDIDATES_PER_SIGNAL = 32;
export const ATTEMPT_PATTERN = /^[a-z2-7]{16}$/;

export interface SignalCandidate {
  candidate: string;
  sdpMid: string | null;
  sdpMLineIndex: number | null;
}

export type RtcSignal =
  | { v: 1; t: 'knock'; a: string }
  | { v: 1; t: 'offer'; a: string; sdp: string }
  | { v: 1; t: 'answer'; a: string; sdp: string }
  | { v: 1; t: 'candidates'; a: string; c: SignalCandidate[]; done: boolean }
  | { v: 1; t: 'bye'; a: string; reason: string }
  | { v: 1; t: 'where'; e: SignalEndpoint[] };

export interface SignalEndpoint {
  host: string;
  port: number;
  tls?: boolean;
}

const version = literal(RTC_SIGNAL_VERSION);
const attempt = str({ min: 16, max: 16, pattern: ATTEMPT_PATTERN });
const sdp = str({ min: 10, max: MAX_SDP_CHARS, pattern: /^v=0\r?\n/ });
const candidate: Schema<SignalCandidate> = obj({
  // "candidate:..." lines; an empty one is the end-of-candidates marker some stacks send.
  candidate: str({ max: 512, pattern: /^(candidate:[\x20-\x7e]+)?$/ }),
  sdpMid: nullable(str({ max: 64, pattern: /^[\x21-\x7e]*$/ })),
  sdpMLineIndex: nullable(int({ min: 0, max: 64 })),
});

const endpoint: Schema<SignalEndpoint> = (v, path) => {
  if (!isPlainObject(v)) return fail(path, 'object', v);
  for (const key in v) {
    if (key !== 'host' && key !== 'port' && key !== 'tls')
      fail(`${path}.${key}`, 'no such field', v[key]);
  }
  const host = str({ min: 1, max: 253, pattern: /^[A-Za-z0-9.:-]+$/ })(v.host, `${path}.host`);
  const port = int({ min: 1, max: 65535 })(v.port, `${path}.port`);
  if (v.tls === undefined) return { host, port };
  return { host, port, tls: bool(v.tls, `${path}.tls`) };
};

const SCHEMAS: Record<RtcSignal['t'], Schema<RtcSignal>> = {
  knock: obj({ v: version, t: literal('knock'), a: attempt }),
  offer: obj({ v: version, t: literal('offer'), a: attempt, sdp }),
  answer: obj({ v: version, t: literal('answer'), a: attempt, sdp }),
  candidates: obj({
    v: version,
    t: literal('candidates'),
    a: attempt,
    c: arr(candidate, { max: MAX_CANDIDATES_PER_SIGNAL }),
    done: bool,
  }),
  bye: obj({ v: version, t: literal('bye'), a: attempt, reason: str({ max: 200 }) }),
  where: obj({ v: version, t: literal('where'), e: arr(endpoint, { max: MAX_ENDPOINTS }) }),
};

/** Validates an opened signal's JSON value; BAD_MESSAGE / UNKNOWN_MESSAGE when wrong. */
export function parseRtcSignal(value: unknown): RtcSignal {
  if (!isPlainObject(value)) fail('', 'object', value);
  const kind = value.t;
  if (typeof kind !== 'string' || !Object.hasOwn(SCHEMAS, kind)) {
    throw new MeshsyncError('UNKNOWN_MESSAGE', `unknown rtc signal ${JSON.stringify(kind)}`, {
      details: { kind: typeof kind === 'string' ? kind.slice(0, 32) : typeof kind },
    });
  }
  return SCHEMAS[kind as RtcSignal['t']](value, '');
}

/**
 * The device that sends the offer between `self` and `other`: the smaller id. Both sides
 * compute the same answer, so two devices that want each other at once never both offer
 * (no glare); the other one knocks instead.
 */
export function isInitiator(self: string, other: string): boolean {
  return self < other;
}
