/**
 * OpenTelemetry attributes → repeated `KeyValue`. The SDK hands attribute values through
 * unsanitised (`AnyValue = unknown`), so every JS value gets valid output: the types OTLP has
 * are mapped as `@opentelemetry/otlp-transformer` maps them, and values it cannot represent
 * are dropped and counted instead of being written half-formed.
 *
 * @module
 */
import { type ProtoWriter, putVarint, varintSize } from "./wire.ts";

/** Deepest nesting of arrays and maps that is encoded; deeper values (and cycles) are dropped. */
export const MAX_ATTRIBUTE_DEPTH = 16;

const MIN_INT64 = -(2 ** 63);
const MAX_INT64 = 2 ** 63;
const BIG_MIN_INT64 = -(2n ** 63n);
const BIG_MAX_INT64 = 2n ** 63n - 1n;
const hasOwn = Object.prototype.hasOwnProperty;

/** Counts of attribute values that could not be encoded, by reason. */
export interface AttributeDropCounts {
  /** Functions, symbols, and bigints outside int64: OTLP has no such value. */
  unsupported: number;
  /** Nesting deeper than {@linkcode MAX_ATTRIBUTE_DEPTH}, including cyclic structures. */
  tooDeep: number;
}

/**
 * Writes one `AnyValue` message body for `value`. Returns false (and writes nothing) when the
 * value cannot be represented.
 */
function writeAnyValue(
  w: ProtoWriter,
  value: unknown,
  depth: number,
  drops: AttributeDropCounts,
): boolean {
  switch (typeof value) {
    case "string":
      w.tag(1, 2);
      w.string(value);
      return true;
    case "boolean":
      w.tag(2, 0);
      w.uint32(value ? 1 : 0);
      return true;
    case "number":
      if (Number.isInteger(value) && value >= MIN_INT64 && value < MAX_INT64) {
        w.tag(3, 0);
        w.int64(value);
      } else {
        w.tag(4, 1);
        w.double(value);
      }
      return true;
    case "bigint":
      if (value < BIG_MIN_INT64 || value > BIG_MAX_INT64) {
        drops.unsupported++;
        return false;
      }
      w.tag(3, 0);
      w.varint64(Number(BigInt.asUintN(32, value)), Number(BigInt.asUintN(32, value >> 32n)));
      return true;
    case "undefined":
      return true; // an empty AnyValue, as otlp-transformer writes it
    case "object": {
      if (value === null) return true;
      if (depth >= MAX_ATTRIBUTE_DEPTH) {
        drops.tooDeep++;
        return false;
      }
      if (value instanceof Uint8Array) {
        w.tag(7, 2);
        w.bytes(value);
        return true;
      }
      if (Array.isArray(value)) {
        w.tag(5, 2);
        const array = fork(w);
        for (const item of value) {
          const mark = w.pos;
          w.tag(1, 2);
          const element = fork(w);
          if (writeAnyValue(w, item, depth + 1, drops)) join(w, element);
          else w.pos = mark;
        }
        join(w, array);
        return true;
      }
      w.tag(6, 2);
      const list = fork(w);
      const map = value as Record<string, unknown>;
      for (const key in map) {
        if (!hasOwn.call(map, key)) continue;
        const mark = w.pos;
        w.tag(1, 2);
        if (writeKeyValue(w, key, map[key], depth + 1, drops)) continue;
        w.pos = mark;
      }
      join(w, list);
      return true;
    }
    default: // function, symbol
      drops.unsupported++;
      return false;
  }
}

/** Writes a length-delimited `KeyValue` after its tag; false when the value was dropped. */
function writeKeyValue(
  w: ProtoWriter,
  key: string,
  value: unknown,
  depth: number,
  drops: AttributeDropCounts,
): boolean {
  const kv = fork(w);
  w.tag(1, 2);
  w.string(key);
  w.tag(2, 2);
  const any = fork(w);
  if (!writeAnyValue(w, value, depth, drops)) return false;
  join(w, any);
  join(w, kv);
  return true;
}

/** Reserves one byte for a length and returns where the content starts. */
function fork(w: ProtoWriter): number {
  w.ensure(1);
  w.pos++;
  return w.pos;
}

/** Writes the length of the content that started at `start`, shifting it if it needs more bytes. */
function join(w: ProtoWriter, start: number): void {
  const length = w.pos - start;
  if (length < 0x80) {
    w.buf[start - 1] = length;
    return;
  }
  const extra = (length < 0x4000 ? 2 : length < 0x200000 ? 3 : length < 0x10000000 ? 4 : 5) - 1;
  w.ensure(extra);
  w.buf.copyWithin(start + extra, start, w.pos);
  w.pos += extra;
  w.prependVarint(start + extra, length);
}

/**
 * Writes `attributes` as repeated `KeyValue` with tag `field` into `w`.
 * Returns how many values were dropped.
 */
export function writeAttributes(
  w: ProtoWriter,
  attributes: Readonly<Record<string, unknown>> | undefined,
  field: number,
  drops: AttributeDropCounts,
): void {
  if (!attributes) return;
  const tag = (field << 3) | 2;
  for (const key in attributes) {
    if (!hasOwn.call(attributes, key)) continue;
    const value = attributes[key];
    if (tag < 0x80 && writeFlatKeyValue(w, tag, key, value)) continue;
    const mark = w.pos;
    w.uint32(tag);
    if (!writeKeyValue(w, key, value, 0, drops)) w.pos = mark;
  }
}

/**
 * The common case in one pass, without forks: an ASCII key with an ASCII string, a boolean, an
 * integer in [0, 2^32) or a non-integral number. Every length follows from the string lengths,
 * so the bytes go straight to their place; a non-ASCII character makes it return false with
 * nothing written, and the general path (same bytes) takes over.
 */
function writeFlatKeyValue(w: ProtoWriter, tag: number, key: string, value: unknown): boolean {
  const keyLength = key.length;
  let anyLength: number; // AnyValue body
  let kind: number;
  let text = "";
  let number = 0;
  switch (typeof value) {
    case "string":
      text = value;
      anyLength = 1 + varintSize(text.length) + text.length;
      kind = 0;
      break;
    case "boolean":
      anyLength = 2;
      kind = 1;
      break;
    case "number":
      number = value;
      if (number >>> 0 === number) {
        anyLength = 1 + varintSize(number);
        kind = 2;
      } else if (!Number.isInteger(number)) {
        anyLength = 9;
        kind = 3;
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
  b[p++] = tag;
  p = putVarint(b, p, kvLength);
  b[p++] = 0x0a; // KeyValue.key = 1
  p = putVarint(b, p, keyLength);
  for (let i = 0; i < keyLength; i++) {
    const c = key.charCodeAt(i);
    if (c > 0x7f) return false; // pos untouched: the caller rewrites this key-value
    b[p++] = c;
  }
  b[p++] = 0x12; // KeyValue.value = 2
  p = putVarint(b, p, anyLength);
  switch (kind) {
    case 0: {
      b[p++] = 0x0a; // string_value = 1
      const n = text.length;
      p = putVarint(b, p, n);
      for (let i = 0; i < n; i++) {
        const c = text.charCodeAt(i);
        if (c > 0x7f) return false;
        b[p++] = c;
      }
      break;
    }
    case 1:
      b[p++] = 0x10; // bool_value = 2
      b[p++] = value ? 1 : 0;
      break;
    case 2:
      b[p++] = 0x18; // int_value = 3
      p = putVarint(b, p, number);
      break;
    default:
      b[p++] = 0x21; // double_value = 4
      w.dv.setFloat64(p, number, true);
      p += 8;
  }
  w.pos = p;
  return true;
}

/**
 * A cached set with an array of its own: stored but not found again yet, or one whose encoding
 * dropped values (the counts are added again on every hit) or that is large. Never in a chunk.
 */
interface Pending {
  bytes: Uint8Array;
  unsupported: number;
  tooDeep: number;
}

/** A set as cached: a view into a shared chunk once it came back, else {@linkcode Pending}. */
type Cached = Uint8Array | Pending;

/** Below this many inserts in one export, the caching policy keeps caching everything. */
const POLICY_MIN_INSERTS = 64;
/** While not caching everything, one position (or miss) in this many is still cached. */
const PROBE_EVERY = 64;
/** Bytes per chunk of cached sets that came back (see `AttributeCache.#writePending`). */
const CHUNK_SIZE = 4096;

/**
 * The attribute sets of one metric stream by point position, as the last export saw them. The
 * SDK lists a stream's series in the same order collection after collection, so the set of
 * point `i` is usually the one cached at `i` last time: found by one comparison, without hashing
 * the object (a `WeakMap` lookup costs 3–4× more, mostly in cache misses). Holds the last
 * export's objects strongly: at most one per series of the stream.
 */
export class SeriesSlots {
  /** The attributes object seen at each position. */
  readonly keys: unknown[] = [];
  /** Its encoding. */
  readonly values: Cached[] = [];
  /** The cache generation these slots belong to (see {@linkcode AttributeCache}). */
  generation = 0;
}

/**
 * Encoded attribute sets, remembered per attributes object and field number. The SDK hands the
 * same object again for a series it already holds, so a steady workload encodes each set once.
 * Held weakly: a set is forgotten with its object. With {@linkcode SeriesSlots} a set is first
 * looked for at its position in the stream.
 *
 * Caching a set costs more than encoding it once (a copy into its own array and a `WeakMap`
 * insert, each several hundred nanoseconds in V8), which only pays if the object comes back.
 * When the application passes a new attributes literal at every recording, the SDK hands new
 * objects after every delta collection and nothing comes back. So the cache watches whether the
 * sets it stored during one export were found again during the next ({@linkcode beginExport}
 * marks the boundary): if fewer than one in eight were, it looks up and caches only the sets at
 * every 64th position from then on (and lets go of the slots), encoding the others directly, and
 * goes back to caching everything as soon as half of those probes are found again. Which sets
 * are cached never changes the bytes written.
 */
export class AttributeCache {
  // A map per field number: number points (7), histograms (9), exponential histograms and
  // resources (1) without a lookup; any other (scope attributes, 3) through #otherFields.
  #field1 = new WeakMap<object, Cached>();
  #field7 = new WeakMap<object, Cached>();
  #field9 = new WeakMap<object, Cached>();
  #otherFields = new Map<number, WeakMap<object, Cached>>();
  #scratch: AttributeDropCounts = { unsupported: 0, tooDeep: 0 };
  /** Whether every miss is cached (else one in {@linkcode PROBE_EVERY}). */
  #cachingAll = true;
  /** Bumped whenever caching everything stops: older slots are dropped on their next use. */
  #generation = 0;
  #hits = 0;
  #inserts = 0;
  #previousInserts = 0;
  #missCount = 0;
  /** The current chunk sets that came back are copied into, and its first free byte. */
  #chunk: Uint8Array | undefined = undefined;
  #chunkPos = 0;

  #cache(field: number): WeakMap<object, Cached> {
    switch (field) {
      case 7:
        return this.#field7;
      case 9:
        return this.#field9;
      case 1:
        return this.#field1;
    }
    let cache = this.#otherFields.get(field);
    if (!cache) {
      cache = new WeakMap();
      this.#otherFields.set(field, cache);
    }
    return cache;
  }

  /** Whether every miss is cached now (false: only probes). For diagnostics and benchmarks. */
  get cachingAll(): boolean {
    return this.#cachingAll;
  }

  /**
   * Marks the start of an export: decides from the last two exports whether caching pays.
   * Calling it never changes what is written.
   */
  beginExport(): void {
    const hits = this.#hits, stored = this.#previousInserts;
    if (this.#cachingAll) {
      if (stored >= POLICY_MIN_INSERTS && hits * 8 < stored) {
        this.#cachingAll = false;
        this.#generation++;
      }
    } else if (stored > 0 && hits * 2 >= stored) this.#cachingAll = true;
    this.#previousInserts = this.#inserts;
    this.#inserts = 0;
    this.#hits = 0;
  }

  /**
   * Writes `attributes` under tag `field`, from the cache when this object was seen before:
   * first at position `index` of `slots` (the stream's previous export), then by identity.
   */
  write(
    w: ProtoWriter,
    attributes: Readonly<Record<string, unknown>> | undefined,
    field: number,
    drops: AttributeDropCounts,
    slots?: SeriesSlots,
    index = -1,
  ): void {
    if (!attributes) return;
    if (!this.#cachingAll && index >= 0 && index % PROBE_EVERY !== 0) {
      // Caching does not pay here (see the class notes): only every 64th position is looked up.
      writeAttributes(w, attributes, field, drops);
      return;
    }
    let hit: Cached | undefined;
    if (slots !== undefined && index >= 0) {
      if (slots.generation !== this.#generation) {
        slots.keys.length = 0;
        slots.values.length = 0;
        slots.generation = this.#generation;
      }
      if (index < slots.keys.length && slots.keys[index] === attributes) {
        hit = slots.values[index]!;
        this.#hits++;
        if (hit instanceof Uint8Array) w.raw(hit);
        else this.#writePending(w, hit, drops, attributes, field, slots, index);
        return;
      }
    } else slots = undefined;
    const cache = this.#cache(field);
    hit = cache.get(attributes);
    if (hit !== undefined) {
      this.#hits++;
      if (hit instanceof Uint8Array) {
        w.raw(hit);
        if (slots !== undefined) remember(slots, index, attributes, hit);
      } else this.#writePending(w, hit, drops, attributes, field, slots, index);
      return;
    }
    if (!this.#cachingAll && index < 0 && ++this.#missCount % PROBE_EVERY !== 0) {
      writeAttributes(w, attributes, field, drops);
      return;
    }
    this.#inserts++;
    const scratch = this.#scratch;
    scratch.unsupported = 0;
    scratch.tooDeep = 0;
    const start = w.pos;
    writeAttributes(w, attributes, field, scratch);
    const pending: Pending = {
      bytes: w.buf.slice(start, w.pos),
      unsupported: scratch.unsupported,
      tooDeep: scratch.tooDeep,
    };
    drops.unsupported += scratch.unsupported;
    drops.tooDeep += scratch.tooDeep;
    cache.set(attributes, pending);
    if (slots !== undefined && this.#cachingAll) remember(slots, index, attributes, pending);
  }

  /**
   * Writes a {@linkcode Pending} set found again. While caching everything, a set that came
   * back without dropped values moves into a shared chunk: the sets of a stream then sit
   * together in the order they are read, each kept as a view rather than an `ArrayBuffer` of
   * its own, which is several times cheaper to read back (most of all in V8). Only sets that
   * came back are moved, so a chunk holds series that last, never one-off sets; it is freed
   * with the last set in it.
   */
  #writePending(
    w: ProtoWriter,
    pending: Pending,
    drops: AttributeDropCounts,
    attributes: object,
    field: number,
    slots: SeriesSlots | undefined,
    index: number,
  ): void {
    w.raw(pending.bytes);
    let value: Cached = pending;
    if (pending.unsupported !== 0 || pending.tooDeep !== 0) {
      drops.unsupported += pending.unsupported;
      drops.tooDeep += pending.tooDeep;
    } else if (this.#cachingAll && pending.bytes.length <= CHUNK_SIZE / 16) {
      value = this.#intoChunk(pending.bytes);
      this.#cache(field).set(attributes, value);
    }
    if (slots !== undefined) remember(slots, index, attributes, value);
  }

  /** A copy of `bytes` in the current chunk (a new one when it is full), as a view. */
  #intoChunk(bytes: Uint8Array): Uint8Array {
    const n = bytes.length;
    let chunk = this.#chunk;
    if (chunk === undefined || this.#chunkPos + n > CHUNK_SIZE) {
      chunk = this.#chunk = new Uint8Array(CHUNK_SIZE);
      this.#chunkPos = 0;
    }
    const at = this.#chunkPos;
    chunk.set(bytes, at);
    this.#chunkPos = at + n;
    return new Uint8Array(chunk.buffer, at, n);
  }
}

function remember(slots: SeriesSlots, index: number, attributes: object, value: Cached): void {
  if (index > slots.keys.length) return; // only dense arrays
  slots.keys[index] = attributes;
  slots.values[index] = value;
}
