import { create } from 'qrcode/lib/core/qrcode.js';
import { render as renderSvgTag } from 'qrcode/lib/renderer/svg-tag.js';
import { MeshsyncError } from '../errors.js';

/*
 * QR codes for pairing tokens, as text (SVG, terminal). Isomorphic: only qrcode's pure encoder
 * and SVG renderer are imported, never the package root (which is lib/server.js in Node, with a
 * PNG renderer and `fs`, and lib/browser.js in bundlers). The terminal forms are drawn here so
 * that the quiet zone follows `margin` in both (qrcode's ANSI renderer has a fixed 1-module one
 * and its UTF-8 renderer throws on an odd margin).
 */

/** Error correction: about 7% (L), 15% (M), 25% (Q) or 30% (H) of the symbol can be restored. */
export type QrErrorCorrection = 'L' | 'M' | 'Q' | 'H';

/** How the text is encoded: one mode throughout, or `mixed` segments (a URL, say). */
export type QrMode = 'numeric' | 'alphanumeric' | 'byte' | 'kanji' | 'mixed';

/** Options common to every QR rendering. */
export interface QrOptions {
  /** Default `'M'`. */
  errorCorrection?: QrErrorCorrection;
  /** Quiet zone around the symbol, in modules (an integer, 0 to 64). Default 4 (terminal: 2). */
  margin?: number;
}

/** What a text encodes to. */
export interface QrInfo {
  /** QR version, 1 to 40 (the smallest that holds the text). */
  version: number;
  /** Modules per side: `4 * version + 17`. */
  modules: number;
  errorCorrection: QrErrorCorrection;
  mode: QrMode;
}

/** The symbol itself, for renderers (PNG, canvas). */
export interface QrMatrix extends QrInfo {
  /** `modules * modules` cells, row by row, without quiet zone: 1 dark, 0 light. */
  data: Uint8Array;
}

/** Options of `qrTerminal`. */
export interface QrTerminalOptions extends QrOptions {
  /**
   * `'compact'` (default): plain UTF-8 half blocks, two module rows per line and one column per
   * module, no escape codes. `'ansi'`: ANSI background colours, two columns and one line per
   * module; twice as wide, but correct on any terminal theme.
   */
  style?: 'compact' | 'ansi';
  /**
   * Compact form only: draw light modules with ink instead of dark ones, for terminals with a
   * dark background (the default suits dark text on a light background, and paper).
   */
  invert?: boolean;
}

/**
 * Most characters (bytes for `byte`) a QR code holds (version 40), per error correction and mode.
 * Upper-case base32 is alphanumeric; text with lower case or `?&=` is byte or mixed.
 */
export const QR_MAX_LENGTH: Readonly<
  Record<QrErrorCorrection, { numeric: number; alphanumeric: number; byte: number }>
> = {
  L: { numeric: 7089, alphanumeric: 4296, byte: 2953 },
  M: { numeric: 5596, alphanumeric: 3391, byte: 2331 },
  Q: { numeric: 3993, alphanumeric: 2420, byte: 1663 },
  H: { numeric: 3057, alphanumeric: 1852, byte: 1273 },
};

const MAX_MARGIN = 64;
const MODES: Readonly<Record<string, QrMode>> = {
  Numeric: 'numeric',
  Alphanumeric: 'alphanumeric',
  Byte: 'byte',
  Kanji: 'kanji',
};

/** An integer option in [min, max], or `fallback` when absent; `INVALID_OPTION` otherwise. */
export function qrIntegerOption(
  name: string,
  value: number | undefined,
  min: number,
  max: number,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new MeshsyncError('INVALID_OPTION', `${name} must be an integer from ${min} to ${max}`, {
      details: { option: name, value },
    });
  }
  return value;
}

function errorCorrectionOf(options: QrOptions): QrErrorCorrection {
  const level = options.errorCorrection ?? 'M';
  if (level !== 'L' && level !== 'M' && level !== 'Q' && level !== 'H') {
    // qrcode itself silently falls back to M on an unknown level.
    throw new MeshsyncError('INVALID_OPTION', `errorCorrection must be L, M, Q or H`, {
      details: { option: 'errorCorrection', value: String(level) },
    });
  }
  return level;
}

function tooLong(text: string, level: QrErrorCorrection): MeshsyncError {
  const mode = /^[0-9]+$/.test(text)
    ? 'numeric'
    : /^[0-9A-Z $%*+./:-]+$/.test(text)
      ? 'alphanumeric'
      : 'byte';
  const length = mode === 'byte' ? new TextEncoder().encode(text).length : text.length;
  const limit = QR_MAX_LENGTH[level][mode];
  const unit = mode === 'byte' ? 'bytes of UTF-8' : `${mode} characters`;
  const message = `text too long for a QR code: ${length} ${unit}, at most ${limit} fit`;
  return new MeshsyncError('INVALID_VALUE', `${message} at error correction ${level}`, {
    details: { length, limit, mode, errorCorrection: level },
  });
}

/**
 * Encodes `text` into a QR symbol (smallest version, best mask). Throws `INVALID_VALUE` for empty
 * text or text that no version holds, `INVALID_OPTION` for a bad error correction level.
 */
export function qrMatrix(text: string, options: QrOptions = {}): QrMatrix {
  const level = errorCorrectionOf(options);
  if (typeof text !== 'string' || text === '') {
    throw new MeshsyncError('INVALID_VALUE', 'empty text: a QR code needs at least 1 character');
  }
  // Nothing longer than the numeric maximum fits: refuse before qrcode segments a huge string.
  if (text.length > QR_MAX_LENGTH[level].numeric) throw tooLong(text, level);
  let qr;
  try {
    qr = create(text, { errorCorrectionLevel: level });
  } catch (err) {
    if (err instanceof Error && /too big/.test(err.message)) throw tooLong(text, level);
    throw new MeshsyncError('INVALID_VALUE', 'text cannot be encoded as a QR code', { cause: err });
  }
  const modes = new Set(qr.segments.map((s) => MODES[s.mode.id] ?? 'mixed'));
  const [only] = modes;
  return {
    version: qr.version,
    modules: qr.modules.size,
    errorCorrection: level,
    mode: modes.size === 1 && only !== undefined ? only : 'mixed',
    data: qr.modules.data,
  };
}

/** Version, size and mode of the QR code for `text` (same refusals as `qrMatrix`). */
export function qrInfo(text: string, options: Pick<QrOptions, 'errorCorrection'> = {}): QrInfo {
  const { version, modules, errorCorrection, mode } = qrMatrix(text, options);
  return { version, modules, errorCorrection, mode };
}

/**
 * An SVG document (`<svg ...>...</svg>`, no XML prolog) with a `viewBox` in modules, quiet zone
 * included, a white background and the dark modules as one path: size it with CSS.
 */
export function qrSvg(text: string, options: QrOptions = {}): string {
  const margin = qrIntegerOption('margin', options.margin, 0, MAX_MARGIN, 4);
  const qr = qrMatrix(text, options);
  return renderSvgTag({ modules: { size: qr.modules, data: qr.data } }, { margin });
}

/** True when the cell at (row, col) of the symbol with its quiet zone is dark. */
function darkAt(qr: QrMatrix, margin: number, row: number, col: number): boolean {
  const r = row - margin;
  const c = col - margin;
  if (r < 0 || c < 0 || r >= qr.modules || c >= qr.modules) return false;
  return qr.data[r * qr.modules + c] === 1;
}

/** Indexed by (top half inked ? 2 : 0) + (bottom half inked ? 1 : 0). */
const HALF_BLOCKS = [' ', '▄', '▀', '█'] as const;
const ANSI_DARK = '\x1b[40m';
const ANSI_LIGHT = '\x1b[47m';
const ANSI_RESET = '\x1b[0m';

function compact(qr: QrMatrix, margin: number, invert: boolean): string[] {
  const side = qr.modules + 2 * margin;
  const ink = (row: number, col: number): boolean =>
    row < side && darkAt(qr, margin, row, col) !== invert;
  const lines: string[] = [];
  for (let row = 0; row < side; row += 2) {
    let line = '';
    for (let col = 0; col < side; col++) {
      line += HALF_BLOCKS[(ink(row, col) ? 2 : 0) + (ink(row + 1, col) ? 1 : 0)];
    }
    lines.push(line);
  }
  return lines;
}

function ansi(qr: QrMatrix, margin: number): string[] {
  const side = qr.modules + 2 * margin;
  const lines: string[] = [];
  for (let row = 0; row < side; row++) {
    let line = '';
    let last: boolean | undefined;
    for (let col = 0; col < side; col++) {
      const dark = darkAt(qr, margin, row, col);
      if (dark !== last) line += dark ? ANSI_DARK : ANSI_LIGHT;
      line += '  ';
      last = dark;
    }
    lines.push(line + ANSI_RESET);
  }
  return lines;
}

/**
 * The QR code as terminal text, lines joined by `\n` (no trailing newline). Compact (default):
 * `ceil(side / 2)` lines of `side` columns, where `side = modules + 2 * margin` (version 12, which
 * holds up to 419 base32 characters at M, is 65 modules: 69 columns with the default margin of 2).
 * ANSI: `side` lines of `2 * side` columns.
 */
export function qrTerminal(text: string, options: QrTerminalOptions = {}): string {
  const margin = qrIntegerOption('margin', options.margin, 0, MAX_MARGIN, 2);
  const style = options.style ?? 'compact';
  if (style !== 'compact' && style !== 'ansi') {
    throw new MeshsyncError('INVALID_OPTION', `style must be 'compact' or 'ansi'`, {
      details: { option: 'style', value: String(style) },
    });
  }
  const qr = qrMatrix(text, options);
  const lines = style === 'ansi' ? ansi(qr, margin) : compact(qr, margin, options.invert === true);
  return lines.join('\n');
}
