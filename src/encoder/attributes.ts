/**
 * OpenTelemetry attributes → repeated `KeyValue`, and the cache of encoded attribute sets.
 *
 * ## Encoding
 * The SDK hands attribute values through unsanitised (`AnyValue = unknown`), so every JS value
 * gets valid output. The types OTLP has are mapped as `@opentelemetry/otlp-transformer` maps
 * them: string, boolean, integer within ±2^63 (int), other number (double), `Uint8Array` and
 * its subclasses such as `Buffer` (bytes), array (array_value), plain object — prototype
 * `Object.prototype` or `null` — (kvlist), `null` / `undefined` (an empty AnyValue); a bigint
 * within int64 is an int. Values OTLP has no type for (functions, symbols, bigints outside
 * int64, and objects of any other class: Date, RegExp, Map, Set, Promise, Error, boxed
 * primitives, ArrayBuffer, DataView, typed arrays other than Uint8Array, class instances) are
 * dropped and counted as `unsupported`, never written half-formed. A value nested deeper than
 * {@linkcode MAX_ATTRIBUTE_DEPTH} is dropped as `tooDeep`; a reference to one of its own
 * ancestors (a cycle) as `cyclic`. Attributes that are not an object (`counter.add(1, 42)`)
 * are iterated exactly as the official serializer iterates them (`for…in` own keys: none for
 * numbers and booleans, one per character for a string).
 *
 * Work is linear in the output: a value shared many times (a DAG) is written each time, as the
 * official serializer writes it, but the encoding of a point stops as soon as it outgrows the
 * writer's home buffer (the sink's staging memory, larger than any payload limit): the writer
 * is then `spilled` and the exporter drops the point as oversize.
 *
 * ## The cache ({@linkcode AttributeSetCache})
 * - **What**: the bytes of one point's whole attribute set (every `tag length KeyValue`), plus
 *   the exact sequence of own enumerable `(key, value)` pairs they were encoded from.
 * - **Keyed by**: the point's position in its metric stream (`dataPoints[i]`; the SDK lists a
 *   stream's series in the same order collection after collection) and the field tag. The
 *   position only says where to look; it never decides what is written.
 * - **Valid when**: the set about to be written has the very same pairs, in the same order,
 *   each key and value `===` to the remembered one, and the same tag. Only sets whose values
 *   are all strings, booleans, numbers other than NaN, `null` or `undefined` are remembered.
 * - **Why it cannot go stale**: the encoding of such a sequence is a function of the sequence
 *   alone (it reads nothing else: not the object's identity, class or history), and `===`
 *   implies the same encoding for these values (equal strings are equal UTF-16, hence equal
 *   UTF-8; `0 === -0` and both are written as int 0; NaN, the one value unequal to itself, is
 *   never remembered). So a validated hit writes exactly the bytes a fresh encode would. An
 *   object mutated between collections fails validation and is encoded afresh; so does a new
 *   object with other values. A new object with the same values (fresh literals with
 *   repeating values, the common case with delta temporality) is a hit.
 * - **Bounded**: one entry per position of a stream, at most {@linkcode MAX_CACHED_POSITIONS}
 *   positions, each at most {@linkcode MAX_CACHED_SET_BYTES} bytes and
 *   {@linkcode MAX_CACHED_SET_KEYS} pairs; an entry is overwritten in place by the next set at
 *   its position, and abandoned room is compacted away once it is half of the buffer (so at
 *   most 2 × positions × 512 bytes). Memory depends on the number of series per stream, never
 *   on the number of distinct values seen (a million distinct values leave as many entries as
 *   positions).
 *
 * @module
 */
import { AnyValue, KeyValue, List } from "./fields.ts";
import { type ProtoWriter, putVarint, tag, varintSize, WireType } from "./wire.ts";

/** Deepest nesting of arrays and maps that is encoded; deeper values are dropped. */
export const MAX_ATTRIBUTE_DEPTH = 16;
/** Positions per metric stream whose attribute sets are cached (the SDK's default limit is 2,000). */
export const MAX_CACHED_POSITIONS = 16384;
/** Largest attribute set (bytes, all tags and lengths included) that is cached. */
export const MAX_CACHED_SET_BYTES = 512;
/** Most pairs an attribute set may have to be cached. */
export const MAX_CACHED_SET_KEYS = 32;

const MIN_INT64 = -(2 ** 63);
const MAX_INT64 = 2 ** 63;
const BIG_MIN_INT64 = -(2n ** 63n);
const BIG_MAX_INT64 = 2n ** 63n - 1n;
const hasOwn = Object.prototype.hasOwnProperty;
const getPrototypeOf = Object.getPrototypeOf;
const objectPrototype = Object.prototype;

const LEN = WireType.LengthDelimited;
const KEY_TAG = tag(KeyValue.key, LEN);
const VALUE_TAG = tag(KeyValue.value, LEN);
const STRING_TAG = tag(AnyValue.string, LEN);
const BOOL_TAG = tag(AnyValue.bool, WireType.Varint);
const INT_TAG = tag(AnyValue.int, WireType.Varint);
const DOUBLE_TAG = tag(AnyValue.double, WireType.Bit64);
const ARRAY_TAG = tag(AnyValue.array, LEN);
const KVLIST_TAG = tag(AnyValue.kvlist, LEN);
const BYTES_TAG = tag(AnyValue.bytes, LEN);
const VALUES_TAG = tag(List.values, LEN);

/** Counts of attribute values that were not written, by reason. */
export interface AttributeDropCounts {
  /**
   * Values OTLP has no type for: functions, symbols, bigints outside int64, and objects that
   * are not plain objects, arrays or `Uint8Array`s (Date, Map, class instances, …).
   */
  unsupported: number;
  /** Nesting deeper than {@linkcode MAX_ATTRIBUTE_DEPTH}. */
  tooDeep: number;
  /** References to an enclosing array or object of the same value (cycles). */
  cyclic: number;
}

/** Zeroed {@linkcode AttributeDropCounts}. */
export function emptyDropCounts(): AttributeDropCounts {
  return { unsupported: 0, tooDeep: 0, cyclic: 0 };
}

// What a value encoder did. ABORTED: the writer spilled, stop everything (see the module notes).
const WRITTEN = 0;
const DROPPED = 1;
const ABORTED = 2;
type Outcome = typeof WRITTEN | typeof DROPPED | typeof ABORTED;

/**
 * The arrays and objects enclosing the value being written: `ancestors[0]` is the attributes
 * object, `ancestors[d]` the container at depth `d - 1`. Encoding is synchronous and never
 * re-entered, so one array serves every writer; entries are cleared on the way out, so it
 * keeps no application object alive.
 */
const ancestors: unknown[] = [];

/**
 * Writes the body of one `AnyValue` for `value`, at nesting `depth` (0: a value of the
 * attributes object itself; `ancestors[0..depth]` hold its enclosing containers).
 */
function writeAnyValue(
  w: ProtoWriter,
  value: unknown,
  depth: number,
  drops: AttributeDropCounts,
): Outcome {
  switch (typeof value) {
    case "string":
      w.uint32(STRING_TAG);
      w.string(value);
      return WRITTEN;
    case "boolean":
      w.uint32(BOOL_TAG);
      w.uint32(value ? 1 : 0);
      return WRITTEN;
    case "number":
      if (Number.isInteger(value) && value >= MIN_INT64 && value < MAX_INT64) {
        w.uint32(INT_TAG);
        w.int64(value);
      } else {
        w.uint32(DOUBLE_TAG);
        w.double(value);
      }
      return WRITTEN;
    case "bigint":
      if (value < BIG_MIN_INT64 || value > BIG_MAX_INT64) {
        drops.unsupported++;
        return DROPPED;
      }
      w.uint32(INT_TAG);
      w.varint64(Number(BigInt.asUintN(32, value)), Number(BigInt.asUintN(32, value >> 32n)));
      return WRITTEN;
    case "undefined":
      return WRITTEN; // an empty AnyValue, as otlp-transformer writes it
    case "object": {
      if (value === null) return WRITTEN;
      if (depth >= MAX_ATTRIBUTE_DEPTH) {
        drops.tooDeep++;
        return DROPPED;
      }
      if (value instanceof Uint8Array) {
        w.uint32(BYTES_TAG);
        w.bytes(value);
        return WRITTEN;
      }
      const isArray = Array.isArray(value);
      if (!isArray) {
        const proto = getPrototypeOf(value);
        if (proto !== objectPrototype && proto !== null) {
          drops.unsupported++;
          return DROPPED;
        }
      }
      for (let i = 0; i <= depth; i++) {
        if (ancestors[i] === value) {
          drops.cyclic++;
          return DROPPED;
        }
      }
      ancestors[depth + 1] = value;
      const outcome = isArray
        ? writeArray(w, value as unknown[], depth + 1, drops)
        : writeKeyValueList(w, value as Record<string, unknown>, depth + 1, drops);
      ancestors[depth + 1] = undefined;
      return outcome;
    }
    default: // function, symbol
      drops.unsupported++;
      return DROPPED;
  }
}

/** `array_value` of `items`, whose elements are at `depth`. */
function writeArray(
  w: ProtoWriter,
  items: readonly unknown[],
  depth: number,
  drops: AttributeDropCounts,
): Outcome {
  w.uint32(ARRAY_TAG);
  const array = w.fork();
  for (const item of items) {
    const mark = w.pos;
    w.uint32(VALUES_TAG);
    const element = w.fork();
    const outcome = writeAnyValue(w, item, depth, drops);
    if (outcome === WRITTEN) w.join(element);
    else if (outcome === DROPPED) w.pos = mark;
    if (outcome === ABORTED || w.spilled) return ABORTED;
  }
  w.join(array);
  return WRITTEN;
}

/** `kvlist_value` of the own enumerable properties of `map`, whose values are at `depth`. */
function writeKeyValueList(
  w: ProtoWriter,
  map: Readonly<Record<string, unknown>>,
  depth: number,
  drops: AttributeDropCounts,
): Outcome {
  w.uint32(KVLIST_TAG);
  const list = w.fork();
  for (const key in map) {
    if (!hasOwn.call(map, key)) continue;
    const mark = w.pos;
    w.uint32(VALUES_TAG);
    const outcome = writeKeyValue(w, key, map[key], depth, drops);
    if (outcome === DROPPED) w.pos = mark;
    if (outcome === ABORTED || w.spilled) return ABORTED;
  }
  w.join(list);
  return WRITTEN;
}

/** A `KeyValue` message's length and body (its tag is written by the caller). */
function writeKeyValue(
  w: ProtoWriter,
  key: string,
  value: unknown,
  depth: number,
  drops: AttributeDropCounts,
): Outcome {
  const kv = w.fork();
  w.uint32(KEY_TAG);
  w.string(key);
  w.uint32(VALUE_TAG);
  const any = w.fork();
  const outcome = writeAnyValue(w, value, depth, drops);
  if (outcome !== WRITTEN) return outcome;
  w.join(any);
  w.join(kv);
  return WRITTEN;
}

/**
 * Writes one top-level pair `key: value` under `setTag` (a repeated `KeyValue` field's tag):
 * the flat fast path when it applies, else the general encoder. Returns false when the point
 * must be abandoned (the writer spilled).
 */
function writePair(
  w: ProtoWriter,
  setTag: number,
  key: string,
  value: unknown,
  drops: AttributeDropCounts,
): boolean {
  if (setTag < 0x80 && writeFlatKeyValue(w, setTag, key, value)) return true;
  const mark = w.pos;
  w.uint32(setTag);
  const outcome = writeKeyValue(w, key, value, 0, drops);
  if (outcome === DROPPED) w.pos = mark;
  return outcome !== ABORTED && !w.spilled;
}

/**
 * Writes `attributes` as repeated `KeyValue` under field number `field`, without any cache.
 * Stops early, with the writer spilled, when the set outgrows the writer's home buffer.
 *
 * @example
 * ```ts
 * import { emptyDropCounts, writeAttributes } from "./attributes.ts";
 * import { ProtoWriter } from "./wire.ts";
 * const w = new ProtoWriter(new Uint8Array(64));
 * writeAttributes(w, { a: "b" }, 7, emptyDropCounts());
 * // 3a 08 | 0a 01 61 | 12 03 0a 01 62
 * if (w.pos !== 10 || w.buf[0] !== 0x3a) throw new Error();
 * ```
 */
export function writeAttributes(
  w: ProtoWriter,
  attributes: unknown,
  field: number,
  drops: AttributeDropCounts,
): void {
  if (!attributes) return; // null, undefined, 0, "", false: no attributes, as the official one
  const setTag = tag(field, LEN);
  const set = attributes as Readonly<Record<string, unknown>>;
  ancestors[0] = set;
  for (const key in set) {
    if (!hasOwn.call(set, key)) continue;
    if (!writePair(w, setTag, key, set[key], drops)) break;
  }
  ancestors[0] = undefined;
}

/**
 * The common case in one pass, without forks: an ASCII key with an ASCII string, a boolean, an
 * integer in [0, 2^32) or a non-integral number. Every length follows from the string lengths,
 * so the bytes go straight to their place; a non-ASCII character makes it return false with
 * `pos` untouched, and the general path (same bytes) takes over.
 */
function writeFlatKeyValue(w: ProtoWriter, setTag: number, key: string, value: unknown): boolean {
  const keyLength = key.length;
  let anyLength: number; // AnyValue body
  let text = "";
  let number = 0;
  let valueTag: number;
  switch (typeof value) {
    case "string":
      text = value;
      anyLength = 1 + varintSize(text.length) + text.length;
      valueTag = STRING_TAG;
      break;
    case "boolean":
      anyLength = 2;
      valueTag = BOOL_TAG;
      break;
    case "number":
      number = value;
      if (number >>> 0 === number) {
        anyLength = 1 + varintSize(number);
        valueTag = INT_TAG;
      } else if (!Number.isInteger(number)) {
        anyLength = 9;
        valueTag = DOUBLE_TAG;
      } else return false;
      break;
    default:
      return false;
  }
  const kvLength = 1 + varintSize(keyLength) + keyLength + 1 + varintSize(anyLength) + anyLength;
  const mark = w.pos;
  w.ensure(1 + varintSize(kvLength) + kvLength);
  const b = w.buf;
  let p = mark;
  b[p++] = setTag;
  p = putVarint(b, p, kvLength);
  b[p++] = KEY_TAG;
  p = putVarint(b, p, keyLength);
  for (let i = 0; i < keyLength; i++) {
    const c = key.charCodeAt(i);
    if (c > 0x7f) return false;
    b[p++] = c;
  }
  b[p++] = VALUE_TAG;
  p = putVarint(b, p, anyLength);
  b[p++] = valueTag;
  if (valueTag === STRING_TAG) {
    const n = text.length;
    p = putVarint(b, p, n);
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c > 0x7f) return false;
      b[p++] = c;
    }
  } else if (valueTag === BOOL_TAG) b[p++] = value ? 1 : 0;
  else if (valueTag === INT_TAG) p = putVarint(b, p, number);
  else {
    w.dv.setFloat64(p, number, true);
    p += 8;
  }
  w.pos = p;
  return true;
}

/** Whether `value` may be remembered: its encoding is a function of its `===` class. */
function rememberable(value: unknown): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
    case "undefined":
      return true;
    case "number":
      return value === value; // not NaN
    case "object":
      return value === null;
    default:
      return false;
  }
}

/** Pairs noted while a set is encoded afresh (key, value, key, value…); reused. */
const scratchPairs: unknown[] = [];

/**
 * The remembered attribute sets of one metric stream, by point position (see the module
 * notes). Each envelope owns one, and one per resource / scope attributes.
 *
 * Laid out for the hot path: per position, a few numbers in typed arrays; the pairs of every
 * position in one array and the bytes of every position in one buffer, each position's region
 * in position order (the order points are read), so a stream's sets are read from contiguous
 * memory rather than from an object and buffer of their own each. A region is reused in place
 * while the next set at its position fits; a larger set gets a new region at the end (at
 * double the size, at most the caps) and the buffer is compacted once more than half of it is
 * abandoned regions.
 *
 * @example
 * ```ts
 * import { AttributeSetCache, emptyDropCounts } from "./attributes.ts";
 * import { ProtoWriter } from "./wire.ts";
 * const cache = new AttributeSetCache();
 * const w = new ProtoWriter(new Uint8Array(64));
 * cache.write(w, { route: "/a" }, 7, emptyDropCounts(), 0);
 * cache.write(w, { route: "/a" }, 7, emptyDropCounts(), 0); // a new object, same pairs: a hit
 * if (cache.entries !== 1 || cache.counts.hits !== 1) throw new Error();
 * ```
 */
export class AttributeSetCache {
  /** Sets written from the cache (validated) and sets encoded afresh, since creation. */
  readonly counts: { hits: number; misses: number } = { hits: 0, misses: 0 };
  #positions = 0;
  // Per position: the tag the set was written under (-1: nothing valid remembered), where its
  // pairs start, how many pairs, room for how many; where its bytes start, how many, room.
  #tag = new Int32Array(16);
  #pairsAt = new Int32Array(16);
  #pairCount = new Int32Array(16);
  #pairRoom = new Int32Array(16);
  #bytesAt = new Int32Array(16);
  #byteCount = new Int32Array(16);
  #byteRoom = new Int32Array(16);
  #pairs: unknown[] = [];
  #pairsEnd = 0;
  #bytes = new Uint8Array(1024);
  #bytesEnd = 0;
  #abandonedBytes = 0;
  #abandonedPairs = 0;

  /** Number of positions with an entry (each at most one set). */
  get entries(): number {
    return this.#positions;
  }

  /** Bytes of the buffer holding the remembered sets' encodings (used, abandoned included). */
  get bytes(): number {
    return this.#bytesEnd;
  }

  /**
   * Writes `attributes` under `field` for the point at `index` of the stream: from the cache
   * when that position holds this very set, else encoded afresh (and remembered). Positions
   * are taken densely from 0, as the SDK's `dataPoints` are; any other `index` (-1, a gap,
   * beyond {@linkcode MAX_CACHED_POSITIONS}): no cache.
   */
  write(
    w: ProtoWriter,
    attributes: unknown,
    field: number,
    drops: AttributeDropCounts,
    index: number,
  ): void {
    if (!attributes) return; // null, undefined, 0, "", false: no attributes, as the official one
    if (index < 0 || index > this.#positions || index >= MAX_CACHED_POSITIONS) {
      this.counts.misses++;
      return writeAttributes(w, attributes, field, drops);
    }
    if (index === this.#positions) this.#addPosition();
    const set = attributes as Readonly<Record<string, unknown>>;
    const setTag = tag(field, LEN);
    if (this.#tag[index] === setTag) {
      // Validate: exactly the remembered pairs, in order (see the module notes).
      const pairs = this.#pairs;
      let p = this.#pairsAt[index]!;
      const end = p + 2 * this.#pairCount[index]!;
      let same = true;
      for (const key in set) {
        if (!hasOwn.call(set, key)) continue;
        if (p === end || pairs[p] !== key || pairs[p + 1] !== set[key]) {
          same = false;
          break;
        }
        p += 2;
      }
      if (same && p === end) {
        const n = this.#byteCount[index]!;
        w.ensure(n);
        const b = w.buf, from = this.#bytes;
        let q = w.pos;
        const at = this.#bytesAt[index]!;
        if (n <= 128) {
          // A few bytes: a loop beats a call into TypedArray#set in both engines.
          for (let i = at, stop = at + n; i < stop; i++) b[q++] = from[i]!;
        } else {
          b.set(from.subarray(at, at + n), q);
          q += n;
        }
        w.pos = q;
        this.counts.hits++;
        return;
      }
    }
    this.counts.misses++;
    this.#encodeAndRemember(w, set, setTag, drops, index);
  }

  /** Encodes `set` afresh, noting its pairs while they are read, and remembers it at `index`. */
  #encodeAndRemember(
    w: ProtoWriter,
    set: Readonly<Record<string, unknown>>,
    setTag: number,
    drops: AttributeDropCounts,
    index: number,
  ): void {
    this.#tag[index] = -1;
    const pairs = scratchPairs;
    const start = w.pos;
    let count = 0;
    let keep = true;
    ancestors[0] = set;
    for (const key in set) {
      if (!hasOwn.call(set, key)) continue;
      const value = set[key];
      if (keep) {
        if (count < MAX_CACHED_SET_KEYS && rememberable(value)) {
          pairs[2 * count] = key;
          pairs[2 * count + 1] = value;
          count++;
        } else keep = false;
      }
      if (!writePair(w, setTag, key, value, drops)) {
        keep = false;
        break;
      }
    }
    ancestors[0] = undefined;
    const length = w.pos - start;
    if (keep && length <= MAX_CACHED_SET_BYTES) {
      this.#remember(index, setTag, count, w.buf, start, length);
    }
    for (let i = 0; i < 2 * count; i++) pairs[i] = undefined; // keep nothing alive
  }

  /** Stores `count` pairs (from scratchPairs) and `bytes[start, start + length)` at `index`. */
  #remember(
    index: number,
    setTag: number,
    count: number,
    bytes: Uint8Array,
    start: number,
    length: number,
  ): void {
    if (2 * count > this.#pairRoom[index]!) {
      this.#abandonedPairs += this.#pairRoom[index]!;
      const room = Math.min(
        Math.max(2 * count, 2 * this.#pairRoom[index]!),
        2 * MAX_CACHED_SET_KEYS,
      );
      const at = this.#pairsEnd, pairs = this.#pairs;
      for (let i = 0; i < room; i++) pairs[at + i] = undefined; // appended in order: packed
      this.#pairsAt[index] = at;
      this.#pairRoom[index] = room;
      this.#pairsEnd = at + room;
    }
    if (length > this.#byteRoom[index]!) {
      this.#abandonedBytes += this.#byteRoom[index]!;
      const room = Math.min(Math.max(length, 2 * this.#byteRoom[index]!), MAX_CACHED_SET_BYTES);
      if (this.#bytesEnd + room > this.#bytes.length) this.#growBytes(this.#bytesEnd + room);
      this.#bytesAt[index] = this.#bytesEnd;
      this.#byteRoom[index] = room;
      this.#bytesEnd += room;
    }
    const pairs = this.#pairs;
    for (let i = 0, p = this.#pairsAt[index]!; i < 2 * count; i++) pairs[p + i] = scratchPairs[i];
    const to = this.#bytes;
    for (let i = 0, q = this.#bytesAt[index]!; i < length; i++) to[q + i] = bytes[start + i]!;
    this.#pairCount[index] = count;
    this.#byteCount[index] = length;
    this.#tag[index] = setTag;
    if (this.#abandonedBytes > this.#bytesEnd / 2 || this.#abandonedPairs > this.#pairsEnd / 2) {
      this.#compact();
    }
  }

  #addPosition(): void {
    const i = this.#positions++;
    if (i === this.#tag.length) {
      const grow = (a: Int32Array) => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.#tag = grow(this.#tag);
      this.#pairsAt = grow(this.#pairsAt);
      this.#pairCount = grow(this.#pairCount);
      this.#pairRoom = grow(this.#pairRoom);
      this.#bytesAt = grow(this.#bytesAt);
      this.#byteCount = grow(this.#byteCount);
      this.#byteRoom = grow(this.#byteRoom);
    }
    this.#tag[i] = -1;
    this.#pairRoom[i] = 0;
    this.#byteRoom[i] = 0;
  }

  #growBytes(needed: number): void {
    const bigger = new Uint8Array(Math.max(needed, this.#bytes.length * 2));
    bigger.set(this.#bytes.subarray(0, this.#bytesEnd));
    this.#bytes = bigger;
  }

  /** Rewrites both buffers without the abandoned regions, in position order. */
  #compact(): void {
    const pairs: unknown[] = [];
    let bytesEnd = 0;
    for (let i = 0; i < this.#positions; i++) bytesEnd += this.#byteRoom[i]!;
    const bytes = new Uint8Array(Math.max(1024, bytesEnd));
    let pairsEnd = 0;
    bytesEnd = 0;
    for (let i = 0; i < this.#positions; i++) {
      const pa = this.#pairsAt[i]!, pc = 2 * this.#pairCount[i]!;
      for (let k = 0; k < pc; k++) pairs[pairsEnd + k] = this.#pairs[pa + k];
      for (let k = pc; k < this.#pairRoom[i]!; k++) pairs[pairsEnd + k] = undefined;
      this.#pairsAt[i] = pairsEnd;
      pairsEnd += this.#pairRoom[i]!;
      const ba = this.#bytesAt[i]!;
      bytes.set(this.#bytes.subarray(ba, ba + this.#byteCount[i]!), bytesEnd);
      this.#bytesAt[i] = bytesEnd;
      bytesEnd += this.#byteRoom[i]!;
    }
    this.#pairs = pairs;
    this.#pairsEnd = pairsEnd;
    this.#bytes = bytes;
    this.#bytesEnd = bytesEnd;
    this.#abandonedBytes = 0;
    this.#abandonedPairs = 0;
  }
}
