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
 *   its position. So memory depends on the number of series per stream, never on the number
 *   of distinct values seen (a million distinct values leave as many entries as positions).
 *
 * @module
 */
import { AnyValue, KeyValue, List } from "./fields.ts";
import { type ProtoWriter, putVarint, tag, varintSize, WireType } from "./wire.ts";

/** Deepest nesting of arrays and maps that is encoded; deeper values are dropped. */
export const MAX_ATTRIBUTE_DEPTH = 16;
/** Positions per metric stream whose attribute sets are cached. */
export const MAX_CACHED_POSITIONS = 65536;
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

/**
 * One remembered attribute set (see the module notes): its pairs and bytes. Overwritten in
 * place by the next set at its position, reusing its arrays and, when large enough, its bytes.
 */
export class CachedSet {
  /** The tag the bytes were written under; -1 while nothing valid is remembered. */
  tag: number = -1;
  /** Number of pairs. */
  count: number = 0;
  /** The keys, in `for…in` order. */
  readonly keys: string[] = [];
  /** The values, each rememberable. */
  readonly values: unknown[] = [];
  /** The bytes, in `bytes[0, length)`. */
  bytes: Uint8Array = new Uint8Array(0);
  /** Number of valid bytes. */
  length: number = 0;
  /** `bytes[0, length)` as a view, made on the first hit of a long set (for `set()`). */
  view: Uint8Array | undefined = undefined;

  /** Whether `set` has exactly the remembered pairs, under `setTag`. */
  matches(set: Readonly<Record<string, unknown>>, setTag: number): boolean {
    if (this.tag !== setTag) return false;
    const keys = this.keys, values = this.values, n = this.count;
    let i = 0;
    for (const key in set) {
      if (!hasOwn.call(set, key)) continue;
      if (i === n || keys[i] !== key || values[i] !== set[key]) return false;
      i++;
    }
    return i === n;
  }
}

/**
 * Writes `attributes` under `field`, from `slot` when it holds this very set (validated by
 * content, see the module notes), else encoded afresh and remembered in `slot` when the set is
 * rememberable. Returns whether it was written from the slot.
 */
export function writeCachedAttributes(
  w: ProtoWriter,
  attributes: unknown,
  field: number,
  drops: AttributeDropCounts,
  slot: CachedSet,
): boolean {
  if (!attributes) return false;
  const set = attributes as Readonly<Record<string, unknown>>;
  const setTag = tag(field, LEN);
  if (slot.matches(set, setTag)) {
    const n = slot.length;
    w.ensure(n);
    const b = w.buf;
    let p = w.pos;
    if (n <= 64) {
      // A few bytes: a loop beats a call into TypedArray#set in both engines.
      const bytes = slot.bytes;
      for (let i = 0; i < n; i++) b[p++] = bytes[i]!;
    } else {
      b.set(slot.view ??= slot.bytes.subarray(0, n), p);
      p += n;
    }
    w.pos = p;
    return true;
  }
  // Encode afresh, noting the pairs while they are read.
  slot.tag = -1;
  const keys = slot.keys, values = slot.values;
  const start = w.pos;
  let count = 0;
  let keep = true;
  ancestors[0] = set;
  for (const key in set) {
    if (!hasOwn.call(set, key)) continue;
    const value = set[key];
    if (keep) {
      if (count < MAX_CACHED_SET_KEYS && rememberable(value)) {
        keys[count] = key;
        values[count] = value;
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
  if (!keep || length > MAX_CACHED_SET_BYTES) {
    keys.length = 0;
    values.length = 0;
    slot.count = 0;
    return false;
  }
  keys.length = count;
  values.length = count;
  if (slot.bytes.length < length) slot.bytes = new Uint8Array(Math.max(64, length * 2));
  const bytes = slot.bytes, b = w.buf;
  for (let i = 0; i < length; i++) bytes[i] = b[start + i]!;
  slot.length = length;
  slot.view = undefined;
  slot.count = count;
  slot.tag = setTag;
  return false;
}

/**
 * The remembered attribute sets of one metric stream, by point position (see the module
 * notes). Each envelope owns one.
 *
 * @example
 * ```ts
 * import { AttributeSetCache, emptyDropCounts } from "./attributes.ts";
 * import { ProtoWriter } from "./wire.ts";
 * const cache = new AttributeSetCache();
 * const w = new ProtoWriter(new Uint8Array(64));
 * cache.write(w, { route: "/a" }, 7, emptyDropCounts(), 0);
 * cache.write(w, { route: "/a" }, 7, emptyDropCounts(), 0); // a new object, same pairs: a hit
 * if (cache.entries !== 1) throw new Error();
 * ```
 */
export class AttributeSetCache {
  readonly #slots: CachedSet[] = [];
  /** Sets written from a slot (validated) and sets encoded afresh, since creation. */
  readonly counts: { hits: number; misses: number } = { hits: 0, misses: 0 };

  /** Number of positions with a slot (each at most one set). */
  get entries(): number {
    return this.#slots.length;
  }

  /** Bytes held by the slots' buffers. */
  get bytes(): number {
    let n = 0;
    for (const s of this.#slots) n += s.bytes.length;
    return n;
  }

  /**
   * Writes `attributes` under `field` for the point at `index` of the stream: from its slot
   * when that holds this very set, else encoded afresh (and remembered). `index` < 0 or beyond
   * {@linkcode MAX_CACHED_POSITIONS}: no cache.
   */
  write(
    w: ProtoWriter,
    attributes: unknown,
    field: number,
    drops: AttributeDropCounts,
    index: number,
  ): void {
    const slots = this.#slots;
    let slot: CachedSet | undefined;
    if (index >= 0 && index < slots.length) slot = slots[index]!;
    else if (index === slots.length && index < MAX_CACHED_POSITIONS) {
      slot = new CachedSet();
      slots.push(slot);
    } else {
      this.counts.misses++;
      return writeAttributes(w, attributes, field, drops);
    }
    if (writeCachedAttributes(w, attributes, field, drops, slot)) this.counts.hits++;
    else this.counts.misses++;
  }
}
