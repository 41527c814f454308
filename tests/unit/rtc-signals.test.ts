import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isInitiator,
  MAX_CANDIDATES_PER_SIGNAL,
  MAX_SDP_CHARS,
  parseRtcSignal,
} from '../../shared/signaling/rtc-signals.js';
import { codeOf } from '../support/codes.js';

const a = 'abcdefghijklmnop';
const sdp = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n';
const candidate = {
  candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 54321 typ host',
  sdpMid: '0',
  sdpMLineIndex: 0,
};

describe('rtc signals', () => {
  it('reads every kind', () => {
    const good = [
      { v: 1, t: 'knock', a },
      { v: 1, t: 'offer', a, sdp },
      { v: 1, t: 'answer', a, sdp },
      {
        v: 1,
        t: 'candidates',
        a,
        c: [candidate, { candidate: '', sdpMid: null, sdpMLineIndex: null }],
        done: true,
      },
      { v: 1, t: 'bye', a, reason: 'timed out' },
      { v: 1, t: 'where', e: [] },
      {
        v: 1,
        t: 'where',
        e: [
          { host: '10.0.0.2', port: 8787 },
          { host: 'fd00::2', port: 1, tls: true },
          { host: 'nas.local', port: 65535, tls: false },
        ],
      },
    ];
    for (const signal of good) expect(parseRtcSignal(signal)).toEqual(signal);
  });

  it('refuses anything off the schema, field by field', () => {
    const bad: Array<[unknown, string]> = [
      [null, 'BAD_MESSAGE'],
      [[], 'BAD_MESSAGE'],
      [{ v: 1, t: 'teleport', a }, 'UNKNOWN_MESSAGE'],
      [{ v: 1, t: 'toString', a }, 'UNKNOWN_MESSAGE'],
      [{ v: 2, t: 'knock', a }, 'BAD_MESSAGE'],
      [{ v: 1, t: 'knock', a, extra: 1 }, 'BAD_MESSAGE'],
      [{ v: 1, t: 'knock', a: 'ABCDEFGHIJKLMNOP' }, 'BAD_MESSAGE'],
      [{ v: 1, t: 'offer', a, sdp: 'hello' }, 'BAD_MESSAGE'],
      [{ v: 1, t: 'offer', a, sdp: sdp + 'a'.repeat(MAX_SDP_CHARS) }, 'BAD_MESSAGE'],
      [{ v: 1, t: 'candidates', a, c: [], done: 'yes' }, 'BAD_MESSAGE'],
      [
        {
          v: 1,
          t: 'candidates',
          a,
          c: Array(MAX_CANDIDATES_PER_SIGNAL + 1).fill(candidate),
          done: false,
        },
        'BAD_MESSAGE',
      ],
      [
        {
          v: 1,
          t: 'candidates',
          a,
          c: [{ ...candidate, candidate: 'candidate:1\n2' }],
          done: false,
        },
        'BAD_MESSAGE',
      ],
      [
        { v: 1, t: 'candidates', a, c: [{ ...candidate, sdpMLineIndex: 99 }], done: false },
        'BAD_MESSAGE',
      ],
      [{ v: 1, t: 'candidates', a, c: [{ ...candidate, proto: 'x' }], done: false }, 'BAD_MESSAGE'],
      [{ v: 1, t: 'bye', a, reason: 'x'.repeat(201) }, 'BAD_MESSAGE'],
      [{ v: 1, t: 'where' }, 'BAD_MESSAGE'],
      [{ v: 1, t: 'where', e: [], a }, 'BAD_MESSAGE'],
      [{ v: 1, t: 'where', e: Array(5).fill({ host: '10.0.0.1', port: 1 }) }, 'BAD_MESSAGE'],
      [{ v: 1, t: 'where', e: [{ host: '10.0.0.1', port: 0 }] }, 'BAD_MESSAGE'],
      [{ v: 1, t: 'where', e: [{ host: '10.0.0.1', port: 70000 }] }, 'BAD_MESSAGE'],
      [{ v: 1, t: 'where', e: [{ host: '10.0.0.1', port: '80' }] }, 'BAD_MESSAGE'],
      [{ v: 1, t: 'where', e: [{ host: 'a/b', port: 80 }] }, 'BAD_MESSAGE'],
      [{ v: 1, t: 'where', e: [{ host: 'x'.repeat(254), port: 80 }] }, 'BAD_MESSAGE'],
      [{ v: 1, t: 'where', e: [{ host: 'h', port: 80, tls: 'yes' }] }, 'BAD_MESSAGE'],
      [{ v: 1, t: 'where', e: [{ host: 'h', port: 80, path: '/' }] }, 'BAD_MESSAGE'],
    ];
    for (const [value, code] of bad)
      expect(
        codeOf(() => parseRtcSignal(value)),
        JSON.stringify(value).slice(0, 80),
      ).toBe(code);
  });

  it('anything at all either parses or is refused with a stable code', () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        expect(['ok', 'BAD_MESSAGE', 'UNKNOWN_MESSAGE']).toContain(
          codeOf(() => parseRtcSignal(value)),
        );
      }),
      { seed: 6, numRuns: 2000 },
    );
  });

  it('exactly one of two devices offers', () => {
    expect(isInitiator('aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb')).toBe(true);
    expect(isInitiator('bbbbbbbbbbbbbbbb', 'aaaaaaaaaaaaaaaa')).toBe(false);
  });
});
