import jsQR from 'jsqr';
import { create } from 'qrcode';
import { describe, expect, it } from 'vitest';
import { MeshsyncError, type ErrorCode } from '../../shared/errors.js';
import {
  decodeQrRgba,
  QR_MAX_LENGTH,
  qrInfo,
  qrMatrix,
  qrSvg,
  qrTerminal,
  type QrErrorCorrection,
  type QrMatrix,
} from '../../shared/qr/index.js';
import { base32 } from '../support/base32-text.js';

/*
 * The isomorphic QR module: versions against the QR capacity tables (and against what jsQR reads
 * back), SVG and terminal text parsed back into modules and compared with the symbol, RGBA round
 * trips through jsQR, and every refusal with its code.
 */

// ---- helpers ---------------------------------------------------------------------------------

const CONNECTION =
  'meshsync://192.168.1.20:7420?id=K5QXEZLTNFXGOIDPMZ2HE33VM5UA&key=' +
  base32(52, 7) +
  '&token=' +
  base32(103, 8);

function expectError(fn: () => unknown, code: ErrorCode, message?: RegExp): MeshsyncError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MeshsyncError);
    const e = err as MeshsyncError;
    expect(e.code).toBe(code);
    if (message) expect(e.message).toMatch(message);
    return e;
  }
  throw new Error(`expected ${code}, nothing thrown`);
}

/** The symbol as a grid of booleans (true = dark), `margin` light modules around it. */
function grid(qr: QrMatrix, margin: number): boolean[][] {
  const side = qr.modules + 2 * margin;
  return Array.from({ length: side }, (_, row) =>
    Array.from({ length: side }, (_, col) => {
      const r = row - margin;
      const c = col - margin;
      return r >= 0 && c >= 0 && r < qr.modules && c < qr.modules
        ? qr.data[r * qr.modules + c] === 1
        : false;
    }),
  );
}

/** RGBA pixels of a symbol, `scale` pixels per module. */
function rgba(qr: QrMatrix, margin = 4, scale = 4, invert = false) {
  const cells = grid(qr, margin);
  const side = cells.length * scale;
  const data = new Uint8ClampedArray(side * side * 4);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const dark = cells[Math.floor(y / scale)]?.[Math.floor(x / scale)] === true;
      const value = dark !== invert ? 0 : 255;
      data.set([value, value, value, 255], (y * side + x) * 4);
    }
  }
  return { data, width: side, height: side };
}

/** Dark cells drawn by qrcode's SVG path (`M x y.5`, `m dx 0`, `h n` runs). */
function svgCells(svg: string): boolean[][] {
  const size = Number(/viewBox="0 0 (\d+) \1"/.exec(svg)?.[1]);
  const d = /<path stroke="#000000" d="([^"]*)"/.exec(svg)?.[1] ?? '';
  const cells = Array.from({ length: size }, () => Array<boolean>(size).fill(false));
  let x = 0;
  let y = 0;
  for (const [, cmd, args] of d.matchAll(/([MmhH])([^MmhH]*)/g)) {
    const [a = NaN, b = NaN] = (args ?? '').trim().split(/\s+/).map(Number);
    if (cmd === 'M') [x, y] = [a, b - 0.5];
    else if (cmd === 'm') [x, y] = [x + a, y + b];
    else if (cmd === 'h') {
      for (let i = 0; i < a; i++) cells[y]![x + i] = true;
      x += a;
    } else throw new Error(`unexpected SVG command ${cmd}`);
  }
  return cells;
}

/** Inked half cells of the compact terminal form, as a grid of `2 * lines` rows. */
function compactCells(text: string): boolean[][] {
  const rows: boolean[][] = [];
  for (const line of text.split('\n')) {
    const chars = [...line];
    rows.push(chars.map((ch) => ch === '█' || ch === '▀'));
    rows.push(chars.map((ch) => ch === '█' || ch === '▄'));
  }
  return rows;
}

/** ANSI SGR escapes (`ESC [ n m`), captured code and the spaces after it. */
const ESC = '\x1b';
const sgr = (): RegExp => new RegExp(`${ESC}\\[(\\d+)m( *)`, 'g');

/** Dark cells of the ANSI form: each module is two spaces after the last colour escape. */
function ansiCells(text: string): boolean[][] {
  return text.split('\n').map((line) => {
    expect(line.endsWith('\x1b[0m')).toBe(true);
    const cells: boolean[] = [];
    let dark = false;
    for (const [, colour, spaces] of line.matchAll(sgr())) {
      if (colour === '40') dark = true;
      else if (colour === '47') dark = false;
      for (let i = 0; i < (spaces ?? '').length; i += 2) cells.push(dark);
    }
    return cells;
  });
}

// ---- qrInfo ----------------------------------------------------------------------------------

describe('qrInfo', () => {
  // Alphanumeric capacities from the QR tables (ISO/IEC 18004 table 7), last fit and first miss.
  const versions: [number, QrErrorCorrection, number][] = [
    [20, 'M', 1],
    [21, 'M', 2],
    [100, 'M', 5],
    [122, 'M', 5],
    [123, 'M', 6],
    [250, 'M', 9],
    [330, 'M', 11],
    [419, 'M', 12],
    [420, 'M', 13],
    [483, 'M', 13],
    [484, 'M', 14],
    [3391, 'M', 40],
    [535, 'L', 12],
    [536, 'L', 13],
    [296, 'Q', 12],
    [297, 'Q', 13],
    [227, 'H', 12],
    [228, 'H', 13],
  ];

  it.each(versions)('%i base32 characters at %s: version %i', (length, level, version) => {
    const info = qrInfo(base32(length), { errorCorrection: level });
    expect(info).toEqual({
      version,
      modules: 4 * version + 17,
      errorCorrection: level,
      mode: 'alphanumeric',
    });
  });

  it('419 characters fill version 12-M exactly: 290 data codewords of 8 bits', () => {
    // Mode (4 bits) + count (11 bits at versions 10-26) + 11 bits per pair, 6 for the odd one.
    const bits = (n: number): number => 4 + 11 + 11 * Math.floor(n / 2) + 6 * (n % 2);
    expect(bits(419)).toBe(2320);
    expect(bits(420)).toBe(2325);
    expect(290 * 8).toBe(2320);
    expect(qrInfo(base32(419)).version).toBe(12);
    expect(qrInfo(base32(420)).version).toBe(13);
  });

  it('defaults to M and names the mode', () => {
    expect(qrInfo('ABC').errorCorrection).toBe('M');
    expect(qrInfo('0123456789').mode).toBe('numeric');
    expect(qrInfo('hello').mode).toBe('byte');
    expect(qrInfo('é').mode).toBe('byte');
    expect(qrInfo('1234567890123456789ABC').mode).toBe('mixed');
    // 227 characters: as bytes alone that is version 12; base32 runs go alphanumeric.
    expect(CONNECTION).toHaveLength(227);
    expect(qrInfo(CONNECTION)).toEqual({
      version: 9,
      modules: 53,
      errorCorrection: 'M',
      mode: 'mixed',
    });
  });

  it('higher error correction needs a larger version for the same text', () => {
    const text = base32(250);
    const seen = (['L', 'M', 'Q', 'H'] as const).map(
      (level) => qrInfo(text, { errorCorrection: level }).version,
    );
    expect(seen).toEqual([8, 9, 11, 13]);
  });
});

// ---- limits and refusals ---------------------------------------------------------------------

describe('refusals', () => {
  it('empty text is INVALID_VALUE', () => {
    expectError(() => qrInfo(''), 'INVALID_VALUE', /empty text/);
    expectError(() => qrSvg(''), 'INVALID_VALUE', /empty text/);
    expectError(() => qrTerminal(''), 'INVALID_VALUE', /empty text/);
  });

  const samples = { numeric: '7', alphanumeric: 'Q', byte: 'q' } as const;
  for (const level of ['L', 'M', 'Q', 'H'] as const) {
    for (const mode of ['numeric', 'alphanumeric', 'byte'] as const) {
      const limit = QR_MAX_LENGTH[level][mode];
      it(`${mode} at ${level}: ${limit} fit in version 40, ${limit + 1} are INVALID_VALUE`, () => {
        const fits = samples[mode].repeat(limit);
        expect(qrInfo(fits, { errorCorrection: level })).toMatchObject({ version: 40, mode });
        const e = expectError(
          () => qrInfo(fits + samples[mode], { errorCorrection: level }),
          'INVALID_VALUE',
          new RegExp(`${limit + 1} .*at most ${limit} fit at error correction ${level}`),
        );
        expect(e.details).toEqual({ length: limit + 1, limit, mode, errorCorrection: level });
      });
    }
  }

  it('over-long text reports UTF-8 bytes for byte mode', () => {
    expectError(() => qrInfo('é'.repeat(1166)), 'INVALID_VALUE', /2332 bytes of UTF-8.*2331/);
    expect(qrInfo('é'.repeat(1165)).version).toBe(40);
  });

  it('a huge text is refused at once', () => {
    const started = Date.now();
    expectError(() => qrInfo('a'.repeat(1_000_000)), 'INVALID_VALUE', /1000000 bytes/);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('bad options are INVALID_OPTION', () => {
    const level = 'X' as QrErrorCorrection;
    expectError(() => qrInfo('A', { errorCorrection: level }), 'INVALID_OPTION', /L, M, Q or H/);
    expectError(() => qrSvg('A', { margin: -1 }), 'INVALID_OPTION', /margin/);
    expectError(() => qrSvg('A', { margin: 1.5 }), 'INVALID_OPTION', /margin/);
    expectError(() => qrTerminal('A', { margin: 65 }), 'INVALID_OPTION', /margin/);
    const style = 'big' as 'ansi';
    expectError(() => qrTerminal('A', { style }), 'INVALID_OPTION', /style/);
  });
});

// ---- SVG -------------------------------------------------------------------------------------

describe('qrSvg', () => {
  it.each([20, 419])(
    'draws exactly the dark modules of %i characters, 4-module quiet zone',
    (n) => {
      const text = base32(n);
      const qr = qrMatrix(text);
      const svg = qrSvg(text);
      const side = qr.modules + 8;
      expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" ')).toBe(true);
      expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
      expect(svg).toContain(`viewBox="0 0 ${side} ${side}"`);
      expect(svg).toContain(`<path fill="#ffffff" d="M0 0h${side}v${side}H0z"/>`);
      expect(svgCells(svg)).toEqual(grid(qr, 4));
    },
  );

  it('follows margin and error correction', () => {
    const qr = qrMatrix('MESHSYNC', { errorCorrection: 'H' });
    const svg = qrSvg('MESHSYNC', { margin: 0, errorCorrection: 'H' });
    expect(svg).toContain(`viewBox="0 0 ${qr.modules} ${qr.modules}"`);
    expect(svgCells(svg)).toEqual(grid(qr, 0));
    expect(svgCells(qrSvg('MESHSYNC', { margin: 0 }))).not.toEqual(grid(qr, 0));
  });
});

// ---- terminal --------------------------------------------------------------------------------

describe('qrTerminal', () => {
  it.each([20, 100, 419])('compact form of %i characters: half blocks, margin 2', (n) => {
    const text = base32(n);
    const qr = qrMatrix(text);
    const side = qr.modules + 4;
    const out = qrTerminal(text);
    const lines = out.split('\n');
    expect(lines).toHaveLength(Math.ceil(side / 2));
    for (const line of lines) expect([...line]).toHaveLength(side);
    expect(out).toMatch(/^[ ▀▄█\n]+$/);
    // The odd last half row is padding, never inked.
    const cells = compactCells(out);
    expect(cells.pop()).toEqual(Array<boolean>(side).fill(false));
    expect(cells).toEqual(grid(qr, 2));
  });

  it('version 12 fits an 80-column terminal', () => {
    const lines = qrTerminal(base32(419)).split('\n');
    expect(lines).toHaveLength(35);
    expect(lines[0]).toHaveLength(69);
  });

  it('invert inks the light modules (and the quiet zone)', () => {
    const qr = qrMatrix(CONNECTION);
    const side = qr.modules + 2;
    const cells = compactCells(qrTerminal(CONNECTION, { invert: true, margin: 1 }));
    expect(cells.pop()).toEqual(Array<boolean>(side).fill(false));
    expect(cells).toEqual(grid(qr, 1).map((row) => row.map((dark) => !dark)));
  });

  it('margin 0: the symbol alone (sides are always odd, so a padding half row)', () => {
    const qr = qrMatrix('A');
    const out = qrTerminal('A', { margin: 0 });
    expect(out.split('\n')).toHaveLength(11);
    const cells = compactCells(out);
    expect(cells.pop()).toEqual(Array<boolean>(21).fill(false));
    expect(cells).toEqual(grid(qr, 0));
  });

  it('ANSI form: one line per module row, two columns per module', () => {
    const text = base32(100);
    const qr = qrMatrix(text);
    const out = qrTerminal(text, { style: 'ansi' });
    const side = qr.modules + 4;
    const lines = out.split('\n');
    expect(lines).toHaveLength(side);
    for (const line of lines) expect(line.replace(sgr(), '$2')).toBe(' '.repeat(2 * side));
    expect(ansiCells(out)).toEqual(grid(qr, 2));
    expect(ansiCells(qrTerminal(text, { style: 'ansi', margin: 0 }))).toEqual(grid(qr, 0));
  });
});

// ---- decodeQrRgba ----------------------------------------------------------------------------

describe('decodeQrRgba', () => {
  it.each([20, 100, 250, 330, 419, 420])('reads back %i base32 characters', (n) => {
    const text = base32(n);
    const qr = qrMatrix(text);
    const image = rgba(qr);
    expect(decodeQrRgba(image.data, image.width, image.height)).toBe(text);
    // An independent reading of the version (jsQR decodes it from the symbol).
    expect(jsQR.default(image.data, image.width, image.height)?.version).toBe(qr.version);
  });

  it('reads back a connection string and non-ASCII text', () => {
    for (const text of [CONNECTION, 'appareil de Zoé ✓']) {
      const qr = qrMatrix(text, { errorCorrection: 'Q' });
      const image = rgba(qr);
      expect(decodeQrRgba(image.data, image.width, image.height)).toBe(text);
      expect(jsQR.default(image.data, image.width, image.height)?.version).toBe(qr.version);
    }
  });

  it('reads light-on-dark codes', () => {
    const image = rgba(qrMatrix(base32(60)), 4, 4, true);
    expect(decodeQrRgba(image.data, image.width, image.height)).toBe(base32(60));
  });

  it('reads codes on a transparent background (taken as white)', () => {
    const text = base32(60);
    const image = rgba(qrMatrix(text));
    // Light modules fully transparent black, as a canvas shows a PNG with alpha.
    for (let i = 0; i < image.data.length; i += 4) {
      if (image.data[i] === 255) image.data.set([0, 0, 0, 0], i);
    }
    const copy = image.data.slice();
    expect(jsQR.default(image.data, image.width, image.height)).toBeNull();
    expect(decodeQrRgba(image.data, image.width, image.height)).toBe(text);
    expect(image.data).toEqual(copy); // the caller's pixels are left alone
  });

  it('an image with no code is BAD_QR', () => {
    const blank = new Uint8ClampedArray(120 * 80 * 4).fill(255);
    expectError(() => decodeQrRgba(blank, 120, 80), 'BAD_QR', /no readable QR code/);
    const noise = new Uint8ClampedArray(64 * 64 * 4).map((_, i) => ((i * 2654435761) >>> 24) & 255);
    expectError(() => decodeQrRgba(noise, 64, 64), 'BAD_QR');
  });

  it('a code whose bytes are not UTF-8 is BAD_QR (jsQR alone returns an empty string)', () => {
    const qr = create([{ mode: 'byte', data: Uint8Array.of(0x41, 0xff, 0xfe) }]);
    const matrix: QrMatrix = {
      version: qr.version,
      modules: qr.modules.size,
      errorCorrection: 'M',
      mode: 'byte',
      data: qr.modules.data,
    };
    const image = rgba(matrix);
    expect(jsQR.default(image.data, image.width, image.height)?.data).toBe('');
    expectError(() => decodeQrRgba(image.data, image.width, image.height), 'BAD_QR', /UTF-8/);
  });

  it('a code holding no data is BAD_QR', () => {
    const qr = create([{ mode: 'byte', data: new Uint8Array(0) }]);
    const image = rgba({ ...qrInfo('A'), mode: 'byte', data: qr.modules.data });
    expect(jsQR.default(image.data, image.width, image.height)?.data).toBe('');
    expectError(() => decodeQrRgba(image.data, image.width, image.height), 'BAD_QR', /no text/);
  });

  it('data that does not match the size is INVALID_VALUE', () => {
    const image = rgba(qrMatrix('A'));
    expectError(() => decodeQrRgba(image.data, image.width + 1, image.height), 'INVALID_VALUE');
    expectError(() => decodeQrRgba(new Uint8ClampedArray(0), 0, 0), 'INVALID_VALUE');
  });
});
