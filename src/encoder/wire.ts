/**
 * The protobuf wire format, and the one writer the encoder uses for it. Every byte of an event
 * goes through {@linkcode ProtoWriter}: tags, varints (32 and 64 bit), fixed64, doubles,
 * strings, and length-delimited fields through {@linkcode ProtoWriter.fork} /
 * {@linkcode ProtoWriter.join}. It writes straight into the sink's (native) staging memory;
 * only when a point outgrows that memory does it move to a growable heap buffer
 * ({@linkcode ProtoWriter.spilled}), which only happens for points over every size limit.
 *
 * Encoding rules (https://protobuf.dev/programming-guides/encoding/):
 * - a tag is the varint `field << 3 | wireType`;
 * - a varint is 7 bits per byte, least significant first, the high bit set on all but the last;
 *   a negative int64 is its 64-bit two's complement (always 10 bytes);
 * - fixed64 / sfixed64 / double are 8 bytes little-endian;
 * - a length-delimited field is the varint of its length, then the bytes.
 *
 * JavaScript numbers are doubles, so 64-bit integers travel as two unsigned 32-bit halves
 * (`lo`, `hi`): {@linkcode ProtoWriter.int64} and {@linkcode ProtoWriter.sfixed64} split a
 * number into them in one place (`#split`).
 *
 * @module
 */

/** 2^32: the weight of the high half of a 64-bit integer. */
export const TWO_32 = 4294967296;

/** Wire types (the low three bits of a tag). */
export const WireType = {
  /** int32, int64, uint32, uint64, sint32, bool, enum. */
  Varint: 0,
  /** fixed64, sfixed64, double. */
  Bit64: 1,
  /** string, bytes, embedded messages, packed repeated fields. */
  LengthDelimited: 2,
  /** fixed32, sfixed32, float. */
  Bit32: 5,
} as const;
/** One of the {@linkcode WireType} values. */
export type WireType = typeof WireType[keyof typeof WireType];

/**
 * The tag of `field` with `wireType`, as a number (a one-byte varint for fields 1..15).
 *
 * @example
 * ```ts
 * import { tag, WireType } from "./wire.ts";
 * if (tag(1, WireType.LengthDelimited) !== 0x0a) throw new Error();
 * ```
 */
export function tag(field: number, wireType: WireType): number {
  return (field << 3) | wireType;
}

/**
 * Number of bytes of the varint of an unsigned 32-bit value.
 *
 * @example
 * ```ts
 * import { varintSize } from "./wire.ts";
 * if (varintSize(127) !== 1 || varintSize(128) !== 2) throw new Error();
 * ```
 */
export function varintSize(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : value < 0x10000000 ? 4 : 5;
}

/**
 * Writes the varint of an unsigned 32-bit `value` into `b` at `p`; returns the position after
 * it. The one 32-bit varint loop: the writer's methods and the length patching use it.
 *
 * @example
 * ```ts
 * import { putVarint } from "./wire.ts";
 * const b = new Uint8Array(5);
 * if (putVarint(b, 0, 300) !== 2 || b[0] !== 0xac || b[1] !== 0x02) throw new Error();
 * ```
 */
export function putVarint(b: Uint8Array, p: number, value: number): number {
  let v = value >>> 0;
  while (v > 0x7f) {
    b[p++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  b[p++] = v;
  return p;
}

const textEncoder = new TextEncoder();

/**
 * Writes protobuf wire data forward from `pos` into a buffer it was given (the sink's staging
 * memory), moving to a heap buffer only when that is too small.
 *
 * @example
 * ```ts
 * import { ProtoWriter, WireType } from "./wire.ts";
 * const w = new ProtoWriter(new Uint8Array(new ArrayBuffer(64)));
 * w.tag(1, WireType.LengthDelimited);
 * const start = w.fork();
 * w.tag(1, WireType.LengthDelimited);
 * w.string("hi");
 * w.join(start);
 * // 0a 04 | 0a 02 68 69
 * if (w.pos !== 6 || w.buf[1] !== 4) throw new Error();
 * ```
 */
export class ProtoWriter {
  /** The buffer written into. */
  buf: Uint8Array;
  /** A little-endian view of `buf`. */
  dv: DataView;
  /** The next byte to write. */
  pos = 0;
  #home: Uint8Array;
  #homeView: DataView;
  // The halves of the last number split by #split.
  #lo = 0;
  #hi = 0;

  /** Creates a writer over `home`, the buffer it returns to after every {@linkcode reset}. */
  constructor(home: Uint8Array) {
    this.#home = home;
    this.#homeView = new DataView(home.buffer, home.byteOffset, home.byteLength);
    this.buf = home;
    this.dv = this.#homeView;
  }

  /** Whether writing moved off the home buffer because it was too small. */
  get spilled(): boolean {
    return this.buf !== this.#home;
  }

  /** Size of the home buffer: what a point may take before it spills. */
  get capacity(): number {
    return this.#home.length;
  }

  /** Returns to the home buffer at `pos`. */
  reset(pos: number): void {
    this.buf = this.#home;
    this.dv = this.#homeView;
    this.pos = pos;
  }

  /** Makes room for `n` more bytes, moving to a larger heap buffer if needed. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n + 1024));
    bigger.set(this.buf.subarray(0, this.pos));
    this.buf = bigger;
    this.dv = new DataView(bigger.buffer);
  }

  /** A field tag. */
  tag(field: number, wireType: WireType): void {
    this.uint32((field << 3) | wireType);
  }

  /** An unsigned 32-bit varint (also bool, enum, and non-negative int32). */
  uint32(value: number): void {
    this.ensure(5);
    this.pos = putVarint(this.buf, this.pos, value);
  }

  /** A 64-bit varint from its unsigned low and high 32-bit halves. */
  varint64(lo: number, hi: number): void {
    if (hi === 0) return this.uint32(lo);
    this.ensure(10);
    const b = this.buf;
    let p = this.pos;
    lo >>>= 0;
    hi >>>= 0;
    while (hi > 0 || lo > 0x7f) {
      b[p++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    b[p++] = lo;
    this.pos = p;
  }

  /**
   * An int64 (or uint64) varint of an integral number within ±2^63 (uint64: [0, 2^64)).
   * Negative numbers are written as their two's complement, 10 bytes.
   */
  int64(value: number): void {
    if (value >= 0 && value < TWO_32) return this.uint32(value);
    this.#split(value);
    this.varint64(this.#lo, this.#hi);
  }

  /** A zigzag sint32 varint. */
  sint32(value: number): void {
    this.uint32(((value << 1) ^ (value >> 31)) >>> 0);
  }

  /** A fixed64 from its unsigned halves. */
  fixed64(lo: number, hi: number): void {
    this.ensure(8);
    this.dv.setUint32(this.pos, lo, true);
    this.dv.setUint32(this.pos + 4, hi, true);
    this.pos += 8;
  }

  /** A fixed64 / sfixed64 of an integral number within ±2^63 (fixed64: [0, 2^64)). */
  sfixed64(value: number): void {
    if (value >= 0 && value < TWO_32) return this.fixed64(value, 0);
    this.#split(value);
    this.fixed64(this.#lo, this.#hi);
  }

  /**
   * The one 64-bit split: `value` (integral, within ±2^64) into the unsigned halves of its
   * 64-bit two's complement, in `#lo` / `#hi`. Exact: `value % 2^32` and `value / 2^32` of an
   * integral double are exact, and the negation works on the halves.
   */
  #split(value: number): void {
    const abs = value < 0 ? -value : value;
    let lo = abs % TWO_32 >>> 0;
    let hi = Math.floor(abs / TWO_32) >>> 0;
    if (value < 0) {
      lo = ~lo >>> 0;
      hi = ~hi >>> 0;
      lo = (lo + 1) >>> 0;
      if (lo === 0) hi = (hi + 1) >>> 0;
    }
    this.#lo = lo;
    this.#hi = hi;
  }

  /** A little-endian IEEE 754 double. */
  double(value: number): void {
    this.ensure(8);
    this.dv.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  /** Raw bytes (already encoded). */
  raw(bytes: Uint8Array): void {
    const n = bytes.length;
    this.ensure(n);
    if (n <= 32) {
      // A few bytes: a loop beats a call into TypedArray#set in both engines.
      const b = this.buf;
      let p = this.pos;
      for (let i = 0; i < n; i++) b[p++] = bytes[i]!;
      this.pos = p;
      return;
    }
    this.buf.set(bytes, this.pos);
    this.pos += n;
  }

  /** Length-prefixed bytes. */
  bytes(bytes: Uint8Array): void {
    this.uint32(bytes.length);
    this.raw(bytes);
  }

  /** A length-prefixed UTF-8 string (ASCII written directly; the rest through TextEncoder). */
  string(text: string): void {
    const n = text.length;
    this.ensure(5 + n);
    const b = this.buf;
    const start = this.pos;
    let p = n < 0x80 ? start + 1 : putVarint(b, start, n);
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c > 0x7f) return this.bytes(textEncoder.encode(text)); // pos untouched so far
      b[p++] = c;
    }
    if (n < 0x80) b[start] = n;
    this.pos = p;
  }

  /**
   * Starts a length-delimited field's content (after its tag): reserves one byte for the
   * length and returns where the content starts, for {@linkcode join}.
   */
  fork(): number {
    this.ensure(1);
    return ++this.pos;
  }

  /**
   * Ends the content started at `start` (from {@linkcode fork}): writes its length in front of
   * it, shifting the content when the length needs more than the one reserved byte.
   */
  join(start: number): void {
    const length = this.pos - start;
    if (length < 0x80) {
      this.buf[start - 1] = length;
      return;
    }
    const extra = varintSize(length) - 1;
    this.ensure(extra);
    this.buf.copyWithin(start + extra, start, this.pos);
    this.pos += extra;
    putVarint(this.buf, start - 1, length);
  }
}

/**
 * Converts an OpenTelemetry HrTime `[seconds, nanoseconds]` into the unsigned halves of unix
 * nanoseconds, `out[0]` low and `out[1]` high (for a fixed64). Exact for every time before
 * 2^64 ns, including seconds ≥ 2^32 and nanoseconds ≥ 1e9 (carried into the seconds).
 *
 * @example
 * ```ts
 * import { hrTimeHalves } from "./wire.ts";
 * const out = new Uint32Array(2);
 * hrTimeHalves(4, 294_967_296, out); // 4_294_967_296 ns = 2^32
 * if (out[0] !== 0 || out[1] !== 1) throw new Error();
 * ```
 */
export function hrTimeHalves(seconds: number, nanos: number, out: Uint32Array): void {
  const n = Math.round(nanos);
  if (seconds >>> 0 === seconds && n >= 0 && n < 0x80000000) {
    // The usual case, without any floating-point remainder (slow in both engines): the low
    // half is exact in 32-bit integer arithmetic; the double sum is off by at most 2^11 from
    // the exact total (< 2^63), so rounding (total - low) / 2^32 gives the exact high half.
    const lo = (Math.imul(seconds, 1e9) + n) >>> 0;
    out[0] = lo;
    out[1] = Math.round((seconds * 1e9 + n - lo) / TWO_32);
    return;
  }
  // seconds * 1e9 exceeds 2^53: split the seconds into 16-bit parts so every product is exact.
  const lowProduct = (seconds & 0xffff) * 1e9; // < 2^46
  const highProduct = Math.floor(seconds / 65536) * 1e9; // times 2^16
  const highProductLow16 = highProduct % 65536;
  const sum = highProductLow16 * 65536 + lowProduct + n; // < 2^48
  out[0] = sum % TWO_32;
  out[1] = Math.floor(highProduct / 65536) + Math.floor(sum / TWO_32);
}
