/**
 * OpenTelemetry attributes → repeated `KeyValue`. The SDK hands attribute values through
 * unsanitised (`AnyValue = unknown`), so every JS value gets valid output: the types OTLP has
 * are mapped as `@opentelemetry/otlp-transformer` maps them, and values it cannot represent
 * are dropped and counted instead of being written half-formed.
 *
 * @module
 */
import type { ProtoWriter } from "./wire.ts";

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
    const mark = w.pos;
    w.uint32(tag);
    if (!writeKeyValue(w, key, attributes[key], 0, drops)) w.pos = mark;
  }
}

interface CachedAttributes {
  bytes: Uint8Array;
  unsupported: number;
  tooDeep: number;
}

/**
 * Encoded attribute sets, remembered per attributes object and field number. The SDK hands the
 * same object again for a series it already holds, so a steady workload encodes each set once.
 * Held weakly: a set is forgotten with its object.
 */
export class AttributeCache {
  #byField = new Map<number, WeakMap<object, CachedAttributes>>();
  #scratch: AttributeDropCounts = { unsupported: 0, tooDeep: 0 };

  /** Writes `attributes` under tag `field`, from the cache when this object was seen before. */
  write(
    w: ProtoWriter,
    attributes: Readonly<Record<string, unknown>> | undefined,
    field: number,
    drops: AttributeDropCounts,
  ): void {
    if (!attributes) return;
    let cache = this.#byField.get(field);
    if (!cache) {
      cache = new WeakMap();
      this.#byField.set(field, cache);
    }
    const hit = cache.get(attributes);
    if (hit) {
      w.raw(hit.bytes);
      drops.unsupported += hit.unsupported;
      drops.tooDeep += hit.tooDeep;
      return;
    }
    const scratch = this.#scratch;
    scratch.unsupported = 0;
    scratch.tooDeep = 0;
    const start = w.pos;
    writeAttributes(w, attributes, field, scratch);
    cache.set(attributes, {
      bytes: w.buf.slice(start, w.pos),
      unsupported: scratch.unsupported,
      tooDeep: scratch.tooDeep,
    });
    drops.unsupported += scratch.unsupported;
    drops.tooDeep += scratch.tooDeep;
  }
}
