/**
 * A protobuf wire writer over a preallocated buffer: the encoder's hot path. It writes
 * straight into the sink's (native) staging memory; only when a point outgrows that memory
 * does it move to a growable heap buffer, which only happens for points over every limit.
 *
 * @module
 */

const TWO_32 = 4294967296;
const textEncoder = new TextEncoder();

/** Number of bytes of the varint encoding of an unsigned 32-bit value. */
export function varintSize(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : value < 0x10000000 ? 4 : 5;
}

/** Number of bytes of the varint encoding of a non-negative integer below 2^53. */
export function varint53Size(value: number): number {
  if (value < TWO_32) return varintSize(value);
  let size = 5;
  let v = Math.floor(value / 34359738368); // 2^35
  while (v > 0) {
    size++;
    v = Math.floor(v / 128);
  }
  return size;
}

/**
 * Writes the varint of an unsigned 32-bit `value` into `b` at `p`; returns the position after
 * it. The one varint loop of the encoder: the writer's methods and the prefix patching use it.
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

/**
 * Writes protobuf wire data forward from `pos`. Lengths of enclosing messages are written
 * afterwards, backwards, with {@linkcode ProtoWriter.prependVarint}.
 *
 * @example
 * ```ts
 * import { ProtoWriter } from "./wire.ts";
 * const w = new ProtoWriter(new Uint8Array(new ArrayBuffer(64)));
 * w.tag(1, 2);
 * w.string("hi");
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
  tag(field: number, wireType: number): void {
    this.uint32((field << 3) | wireType);
  }

  /** An unsigned 32-bit varint. */
  uint32(value: number): void {
    this.ensure(5);
    this.pos = putVarint(this.buf, this.pos, value);
  }

  /** A 64-bit varint from its low and high 32-bit halves (two's complement for negatives). */
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

  /** An int64 varint of an integral number within ±2^63. */
  int64(value: number): void {
    if (value >= 0) {
      if (value < TWO_32) return this.uint32(value);
      return this.varint64(value % TWO_32, Math.floor(value / TWO_32));
    }
    const abs = -value;
    let lo = ~(abs % TWO_32) >>> 0;
    let hi = ~Math.floor(abs / TWO_32) >>> 0;
    lo = (lo + 1) >>> 0;
    if (lo === 0) hi = (hi + 1) >>> 0;
    this.varint64(lo, hi);
  }

  /** A zigzag sint32 varint. */
  sint32(value: number): void {
    this.uint32(((value << 1) ^ (value >> 31)) >>> 0);
  }

  /** A fixed64 from its halves. */
  fixed64(lo: number, hi: number): void {
    this.ensure(8);
    this.dv.setUint32(this.pos, lo, true);
    this.dv.setUint32(this.pos + 4, hi, true);
    this.pos += 8;
  }

  /** A fixed64 / sfixed64 of an integral number within ±2^63. */
  fixed64Number(value: number): void {
    if (value >= 0 && value < TWO_32) return this.fixed64(value, 0);
    if (value >= 0) return this.fixed64(value % TWO_32, Math.floor(value / TWO_32));
    const abs = -value;
    let lo = ~(abs % TWO_32) >>> 0;
    let hi = ~Math.floor(abs / TWO_32) >>> 0;
    lo = (lo + 1) >>> 0;
    if (lo === 0) hi = (hi + 1) >>> 0;
    this.fixed64(lo, hi);
  }

  /** A little-endian IEEE 754 double. */
  double(value: number): void {
    this.ensure(8);
    this.dv.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  /** Raw bytes. */
  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** Length-prefixed bytes. */
  bytes(bytes: Uint8Array): void {
    this.uint32(bytes.length);
    this.raw(bytes);
  }

  /** A length-prefixed UTF-8 string (ASCII written directly; the rest through TextEncoder). */
  string(text: string): void {
    const n = text.length;
    let ascii = true;
    for (let i = 0; i < n; i++) {
      if (text.charCodeAt(i) > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      this.uint32(n);
      this.ensure(n);
      const b = this.buf;
      let p = this.pos;
      for (let i = 0; i < n; i++) b[p++] = text.charCodeAt(i);
      this.pos = p;
      return;
    }
    this.bytes(textEncoder.encode(text));
  }

  /** Writes `value` as a varint ending just before `end`; returns where it starts. */
  prependVarint(end: number, value: number): number {
    const start = end - varintSize(value);
    putVarint(this.buf, start, value);
    return start;
  }
}

/** Converts an OpenTelemetry HrTime `[seconds, nanoseconds]` into the halves of unix nanoseconds. */
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
