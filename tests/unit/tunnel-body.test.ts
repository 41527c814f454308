import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { endpointUrl, tunnelPath } from '../../shared/direct/direct-paths.js';
import { parseDirectError, parseTunnelOpened } from '../../shared/direct/tunnel-answers.js';
import {
  MAX_CLOSE_REASON_BYTES,
  MAX_TUNNEL_BODY_BYTES,
  MAX_TUNNEL_RECORDS,
  encodeTunnelBody,
  parseTunnelBody,
  truncateUtf8,
} from '../../shared/direct/tunnel-body.js';
import { isMeshsyncError } from '../../shared/errors.js';
import { LIMITS } from '../../shared/limits.js';
import { codeOf } from '../support/codes.js';

const bytes = (...b: number[]) => Uint8Array.from(b);

describe('HTTP tunnel bodies', () => {
  it('encode to seq · records, byte for byte', () => {
    expect([...encodeTunnelBody(258, [bytes(9), bytes()], 'ok')]).toEqual([
      0, 0, 1, 2, 1, 0, 0, 0, 1, 9, 1, 0, 0, 0, 0, 2, 0, 0, 0, 2, 0x6f, 0x6b,
    ]);
    expect([...encodeTunnelBody(0, [])]).toEqual([0, 0, 0, 0]);
  });

  it('round-trip any frames and goodbye (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff_ffff }),
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 40 }),
        fc.option(fc.string({ maxLength: 60 }), { nil: null }),
        (seq, frames, close) => {
          const parsed = parseTunnelBody(encodeTunnelBody(seq, frames, close));
          expect(parsed).toEqual({ seq, frames, close });
        },
      ),
    );
  });

  it('parse any byte string to a body or a BAD_FRAME/FRAME_TOO_LARGE error, nothing else (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (input) => {
        try {
          const parsed = parseTunnelBody(input);
          expect(encodeTunnelBody(parsed.seq, parsed.frames, parsed.close)).toEqual(input);
        } catch (err) {
          expect(isMeshsyncError(err, 'BAD_FRAME') || isMeshsyncError(err, 'FRAME_TOO_LARGE')).toBe(
            true,
          );
        }
      }),
    );
  });

  it('refuse every cut of a valid body but the record boundaries (truncation)', () => {
    const body = encodeTunnelBody(7, [bytes(1, 2, 3), bytes(4)], 'bye');
    const boundaries = new Set([4, 12, 18, body.length]);
    for (let cut = 0; cut < body.length; cut++) {
      const code = codeOf(() => parseTunnelBody(body.subarray(0, cut)));
      expect(code).toBe(boundaries.has(cut) ? 'ok' : 'BAD_FRAME');
    }
  });

  it('refuse unknown types, records after the goodbye, long or malformed reasons, too many records', () => {
    const one = encodeTunnelBody(1, [bytes(1)]);
    const unknown = one.slice();
    unknown[4] = 3;
    expect(codeOf(() => parseTunnelBody(unknown))).toBe('BAD_FRAME');
    const closeFirst = new Uint8Array([...encodeTunnelBody(1, [], 'x'), ...one.subarray(4)]);
    expect(codeOf(() => parseTunnelBody(closeFirst))).toBe('BAD_FRAME');
    const badUtf8 = encodeTunnelBody(1, [], 'xx');
    badUtf8[9] = 0xff;
    expect(codeOf(() => parseTunnelBody(badUtf8))).toBe('BAD_FRAME');
    const longReason = new Uint8Array(4 + 5 + MAX_CLOSE_REASON_BYTES + 1);
    longReason[4] = 2;
    new DataView(longReason.buffer).setUint32(5, MAX_CLOSE_REASON_BYTES + 1);
    longReason.fill(0x61, 9);
    expect(codeOf(() => parseTunnelBody(longReason))).toBe('BAD_FRAME');
    const many = new Uint8Array(4 + 5 * (MAX_TUNNEL_RECORDS + 1));
    for (let k = 0; k <= MAX_TUNNEL_RECORDS; k++) many[4 + 5 * k] = 1;
    expect(codeOf(() => parseTunnelBody(many))).toBe('BAD_FRAME');
    expect(codeOf(() => parseTunnelBody(many.subarray(0, many.length - 5)))).toBe('ok');
  });

  it('refuse frames and bodies over the limits (FRAME_TOO_LARGE)', () => {
    const claim = new Uint8Array(9);
    claim[4] = 1;
    new DataView(claim.buffer).setUint32(5, LIMITS.maxFrameBytes + 1);
    expect(codeOf(() => parseTunnelBody(claim))).toBe('FRAME_TOO_LARGE');
    expect(codeOf(() => parseTunnelBody(new Uint8Array(MAX_TUNNEL_BODY_BYTES + 1)))).toBe(
      'FRAME_TOO_LARGE',
    );
    expect(codeOf(() => encodeTunnelBody(0, [new Uint8Array(LIMITS.maxFrameBytes + 1)]))).toBe(
      'INVALID_VALUE',
    );
    expect(codeOf(() => encodeTunnelBody(-1, []))).toBe('INVALID_VALUE');
    expect(codeOf(() => encodeTunnelBody(2 ** 32, []))).toBe('INVALID_VALUE');
    const max = parseTunnelBody(encodeTunnelBody(0, [new Uint8Array(LIMITS.maxFrameBytes)]));
    expect(max.frames[0]!.length).toBe(LIMITS.maxFrameBytes);
  });

  it('cut long goodbye reasons on a character boundary', () => {
    const reason = 'é'.repeat(150);
    const parsed = parseTunnelBody(encodeTunnelBody(0, [], reason));
    expect(parsed.close).toBe('é'.repeat(100));
    expect(truncateUtf8('a€b', 3)).toBe('a');
    expect(truncateUtf8('short', 10)).toBe('short');
  });

  it('hand out frames the receiver owns', () => {
    const body = encodeTunnelBody(0, [bytes(1, 2), bytes(3)]);
    const parsed = parseTunnelBody(body);
    body.fill(0);
    expect(parsed.frames.map((f) => [...f])).toEqual([[1, 2], [3]]);
    expect(parsed.frames[0]!.buffer).not.toBe(parsed.frames[1]!.buffer);
  });
});

describe('direct endpoint answers and URLs', () => {
  const enc = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

  it('parse a tunnel-open answer strictly', () => {
    const ok = { v: 1, tunnel: 'AAAAAAAAAAAAAAAAAAAAAA', pollMs: 20000 };
    expect(parseTunnelOpened(enc(ok))).toEqual({ tunnel: ok.tunnel, pollMs: 20000 });
    for (const bad of [
      { ...ok, v: 2 },
      { ...ok, tunnel: 'short' },
      { ...ok, tunnel: 'AAAAAAAAAAAAAAAAAAAAAB' }, // not canonical base64url of 16 bytes
      { ...ok, pollMs: 0 },
      { ...ok, pollMs: 1.5 },
      { ...ok, pollMs: 10 ** 9 },
      { ...ok, extra: 1 },
      [ok],
      null,
    ]) {
      expect(codeOf(() => parseTunnelOpened(enc(bad)))).toBe('BAD_MESSAGE');
    }
    expect(codeOf(() => parseTunnelOpened(new TextEncoder().encode('{')))).toBe('BAD_MESSAGE');
    expect(codeOf(() => parseTunnelOpened(new Uint8Array(2000).fill(0x20)))).toBe('BAD_MESSAGE');
  });

  it('parse error bodies; unknown codes read as REMOTE_ERROR, non-bodies as null', () => {
    expect(parseDirectError(enc({ code: 'NOT_FOUND', message: 'no' }))).toEqual({
      code: 'NOT_FOUND',
      message: 'no',
    });
    expect(parseDirectError(enc({ code: 'WHAT', message: 'x' }))?.code).toBe('REMOTE_ERROR');
    expect(parseDirectError(enc({ code: 1, message: 'x' }))).toBeNull();
    expect(parseDirectError(new TextEncoder().encode('<html>'))).toBeNull();
  });

  it('build URLs with brackets for IPv6 and s for TLS', () => {
    expect(endpointUrl({ host: '10.0.0.2', port: 8788 }, 'ws', '/x')).toBe('ws://10.0.0.2:8788/x');
    expect(endpointUrl({ host: 'fe80::1', port: 1, tls: true }, 'http', '')).toBe(
      'https://[fe80::1]:1',
    );
    expect(endpointUrl({ host: 'laptop.local', port: 2 }, 'ws', '/y')).toBe(
      'ws://laptop.local:2/y',
    );
    expect(codeOf(() => endpointUrl({ host: 'a b', port: 1 }, 'ws', ''))).toBe('INVALID_VALUE');
    expect(codeOf(() => endpointUrl({ host: '10.0.0.1', port: 0 }, 'ws', ''))).toBe(
      'INVALID_VALUE',
    );
    expect(tunnelPath('AAAAAAAAAAAAAAAAAAAAAA', 'poll')).toBe(
      '/meshsync/v1/tunnel/AAAAAAAAAAAAAAAAAAAAAA/poll',
    );
  });
});
