import { MeshsyncError } from '../errors.js';
import { fromUtf8, utf8 } from '../crypto/bytes.js';

/** Appends fixed-width big-endian integers, raw bytes and short length-prefixed fields. */
export class ByteWriter {
  private chunks: number[] = [];

  u8(n: number): this {
    if (!Number.isInteger(n) || n < 0 || n > 0xff) throw new RangeError(`u8 out of range: ${n}`);
    this.chunks.push(n);
    return this;
  }

  u16(n: number): this {
    if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new RangeError(`u16 out of range: ${n}`);
    this.chunks.push(n >>> 8, n & 0xff);
    return this;
  }

  u32(n: number): this {
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
      throw new RangeError(`u32 out of range: ${n}`);
    }
    this.chunks.push(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
    return this;
  }

  bytes(b: Uint8Array): this {
    for (const byte of b) this.chunks.push(byte);
    return this;
  }

  /** A field of at most 255 bytes, with a one-byte length. */
  short(b: Uint8Array): this {
    if (b.length > 0xff) throw new RangeError(`field too long: ${b.length} bytes`);
    return this.u8(b.length).bytes(b);
  }

  shortText(text: string): this {
    return this.short(utf8(text));
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

/** Reads what ByteWriter wrote; any overrun or bad field throws `BAD_TOKEN` naming the field. */
export class ByteReader {
  private at = 0;

  constructor(
    private readonly buf: Uint8Array,
    private readonly what = 'token',
  ) {}

  get offset(): number {
    return this.at;
  }

  get remaining(): number {
    return this.buf.length - this.at;
  }

  fail(field: string, problem: string): never {
    throw new MeshsyncError('BAD_TOKEN', `${this.what}: ${field}: ${problem}`, {
      details: { field, offset: this.at },
    });
  }

  bytes(n: number, field: string): Uint8Array {
    if (this.remaining < n) this.fail(field, 'truncated');
    const out = this.buf.slice(this.at, this.at + n);
    this.at += n;
    return out;
  }

  u8(field: string): number {
    return this.bytes(1, field)[0] ?? 0;
  }

  u16(field: string): number {
    const b = this.bytes(2, field);
    return ((b[0] ?? 0) << 8) | (b[1] ?? 0);
  }

  u32(field: string): number {
    const b = this.bytes(4, field);
    return (((b[0] ?? 0) << 24) >>> 0) + ((b[1] ?? 0) << 16) + ((b[2] ?? 0) << 8) + (b[3] ?? 0);
  }

  /** A one-byte-length field of `min`..`max` bytes. */
  short(field: string, min = 0, max = 0xff): Uint8Array {
    const n = this.u8(field);
    if (n < min || n > max) this.fail(field, `length ${n} outside ${min}..${max}`);
    return this.bytes(n, field);
  }

  /** A short UTF-8 text field whose characters must match `pattern`. */
  shortText(field: string, pattern: RegExp, min = 0, max = 0xff): string {
    const text = fromUtf8(this.short(field, min, max), 'BAD_TOKEN');
    if (!pattern.test(text)) this.fail(field, 'bad characters');
    return text;
  }

  /** Throws unless every byte was read: trailing bytes are tampering, not padding. */
  end(): void {
    if (this.remaining !== 0) this.fail('end', `${this.remaining} unexpected trailing bytes`);
  }
}
