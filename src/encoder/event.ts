/**
 * One data point → one `ExportMetricsServiceRequest`, written straight into the staging buffer:
 * the point's body forward, then the enclosing messages' prefix (from its
 * {@linkcode MetricEnvelope}) in front of it, so no sizing pass and no intermediate objects are
 * needed.
 *
 * Values are written as otlp-transformer writes them, with one defined exception: an INT
 * instrument's value that is not a number within int64 (NaN, ±Infinity, |v| ≥ 2^63, which
 * `sfixed64` cannot hold; the official serializer writes them silently wrong) is written as
 * `as_double`, exactly the JS number, and counted in {@linkcode PointEncoder.conversions}.
 *
 * @module
 */
import type { DataPoint, ExponentialHistogram, Histogram } from "@opentelemetry/sdk-metrics";
import { type AttributeDropCounts, emptyDropCounts, writeAttributes } from "./attributes.ts";
import { Frame, type MetricEnvelope, PointKind } from "./envelope.ts";
import * as F from "./fields.ts";
import { hrTimeHalves, ProtoWriter, putVarint, tag, TWO_32, varintSize, WireType } from "./wire.ts";

type HrTime = [number, number];
/** A data point of any type, as the SDK hands it. */
export type AnyPoint = DataPoint<unknown>;

const MIN_INT64 = -(2 ** 63);
const MAX_INT64 = 2 ** 63;
const LEN = WireType.LengthDelimited;
const I64 = WireType.Bit64;
const VARINT = WireType.Varint;
const DATA_POINTS_TAG = tag(F.Data.dataPoints, LEN);
// The tags of the two times: the same numbers in every point message.
const START_TIME_TAG = tag(F.NumberPoint.startTime, I64);
const TIME_TAG = tag(F.NumberPoint.time, I64);
// Every tag the point bodies write, computed once (see fields.ts for the field tables).
const EXPONENTIAL_POINT_COUNT_TAG = tag(F.ExponentialPoint.count, I64);
const EXPONENTIAL_POINT_MAX_TAG = tag(F.ExponentialPoint.max, I64);
const EXPONENTIAL_POINT_MIN_TAG = tag(F.ExponentialPoint.min, I64);
const EXPONENTIAL_POINT_SCALE_TAG = tag(F.ExponentialPoint.scale, VARINT);
const EXPONENTIAL_POINT_SUM_TAG = tag(F.ExponentialPoint.sum, I64);
const EXPONENTIAL_POINT_ZERO_COUNT_TAG = tag(F.ExponentialPoint.zeroCount, I64);
const EXPONENTIAL_POINT_ZERO_THRESHOLD_TAG = tag(F.ExponentialPoint.zeroThreshold, I64);
const HISTOGRAM_POINT_BUCKET_COUNTS_TAG = tag(F.HistogramPoint.bucketCounts, LEN);
const HISTOGRAM_POINT_COUNT_TAG = tag(F.HistogramPoint.count, I64);
const HISTOGRAM_POINT_EXPLICIT_BOUNDS_TAG = tag(F.HistogramPoint.explicitBounds, LEN);
const HISTOGRAM_POINT_MAX_TAG = tag(F.HistogramPoint.max, I64);
const HISTOGRAM_POINT_MIN_TAG = tag(F.HistogramPoint.min, I64);
const HISTOGRAM_POINT_SUM_TAG = tag(F.HistogramPoint.sum, I64);
const NUMBER_POINT_AS_DOUBLE_TAG = tag(F.NumberPoint.asDouble, I64);
const NUMBER_POINT_AS_INT_TAG = tag(F.NumberPoint.asInt, I64);

/** Bytes in front of a point body for its `data_points` tag and length, at most. */
const POINT_HEADER = 6;

/** Optional fields the SDK does not produce today but OTLP carries; written when present. */
interface PointExtras {
  flags?: number;
}

/** Counts of values written in another OTLP type than their instrument's. */
export interface ValueConversions {
  /**
   * INT-instrument values written as `as_double` because they are not numbers within int64
   * (NaN, ±Infinity, |v| ≥ 2^63).
   */
  intAsDouble: number;
}

/** Options of {@linkcode PointEncoder}. */
export interface PointEncoderOptions {
  /**
   * Dimensions added to every point's attributes, after its own (as .NET's
   * `PrepopulatedMetricDimensions`); a point's own attribute of the same name wins. Validated by
   * the caller (`validateDimensions`).
   */
  dimensions?: Readonly<Record<string, string | number | boolean>>;
}

/** What {@linkcode PointEncoder.encodePacked} put into its request. */
export interface PackedResult {
  /** Data points in the request; 0 when the first point alone is over the limit. */
  count: number;
  /** With `count` 0: the size of a request holding that one point (for the drop report). */
  oversize: number;
  /**
   * With `count` 0: the point is within the limit but outgrew the writer's home buffer (the
   * sink's staging memory is too small for its own `maxPayloadSize`), not an oversize point.
   */
  spilled: boolean;
}

/**
 * Prepopulated dimensions, serialized once per attributes field (number, histogram and
 * exponential points number it differently): the whole set as one blob, copied after a point's
 * own attributes, and each pair on its own for the points that already have one of the names.
 * Cached: bytes made once from frozen, validated values, so a copy is always what a fresh
 * encode writes.
 */
class Dimensions {
  readonly #names: readonly string[];
  readonly #all = new Map<number, Uint8Array>();
  readonly #pairs = new Map<number, Uint8Array[]>();

  constructor(dimensions: Readonly<Record<string, string | number | boolean>>) {
    this.#names = Object.keys(dimensions);
    for (
      const field of [
        F.NumberPoint.attributes,
        F.HistogramPoint.attributes,
        F.ExponentialPoint.attributes,
      ]
    ) {
      const w = new ProtoWriter(new Uint8Array(new ArrayBuffer(1024)));
      const drops = emptyDropCounts();
      writeAttributes(w, dimensions, field, drops);
      this.#all.set(field, w.buf.slice(0, w.pos));
      this.#pairs.set(
        field,
        this.#names.map((name) => {
          w.reset(0);
          writeAttributes(w, { [name]: dimensions[name] }, field, drops);
          return w.buf.slice(0, w.pos);
        }),
      );
    }
  }

  /** Writes the dimensions `attributes` does not have itself, under attributes field `field`. */
  write(w: ProtoWriter, attributes: unknown, field: number): void {
    const names = this.#names;
    // The encoder writes a set's own enumerable keys (a string's characters included): the
    // same test decides whether the point has a name already.
    const own = attributes !== null && attributes !== undefined && attributes !== "";
    let clash = false;
    if (own) {
      for (let i = 0; i < names.length; i++) {
        if (isEnumerable.call(attributes, names[i]!)) {
          clash = true;
          break;
        }
      }
    }
    if (!clash) return w.raw(this.#all.get(field)!);
    const pairs = this.#pairs.get(field)!;
    for (let i = 0; i < names.length; i++) {
      if (!isEnumerable.call(attributes, names[i]!)) w.raw(pairs[i]!);
    }
  }
}

const isEnumerable = Object.prototype.propertyIsEnumerable;

/**
 * Encodes data points as complete requests into `staging`. After {@linkcode encode}, the
 * payload is `writer.buf[start, writer.pos)`; if `writer.spilled` it outgrew `staging` (and so
 * every size limit) and must be dropped.
 *
 * Nothing is allocated per point: times are converted once per distinct value, attribute sets
 * come from their stream's content-validated cache, and the constant part of each request
 * (resource, scope, metric header, tags) is one precomputed copy.
 *
 * @example
 * ```ts
 * import { PointEncoder } from "./event.ts";
 * import { EnvelopeCache } from "./envelope.ts";
 * const encoder = new PointEncoder(new Uint8Array(new ArrayBuffer(8192)), 0);
 * const metric = {
 *   descriptor: { name: "m", description: "", unit: "", valueType: 1 },
 *   aggregationTemporality: 0,
 *   dataPointType: 2,
 *   dataPoints: [{ startTime: [1, 0], endTime: [2, 0], attributes: { a: "b" }, value: 1.5 }],
 * } as never;
 * const env = new EnvelopeCache().envelope({ attributes: {} } as never, { name: "s" }, metric, encoder.drops);
 * encoder.beginExport();
 * const start = encoder.encode(env, (metric as { dataPoints: never[] }).dataPoints[0]!, 0);
 * if (encoder.writer.pos - start < 40) throw new Error("a whole request");
 * ```
 */
export class PointEncoder {
  /** The writer over the staging buffer. */
  readonly writer: ProtoWriter;
  /** Values dropped from attributes since creation. */
  readonly drops: AttributeDropCounts = emptyDropCounts();
  /** Values written in another type than their instrument's, since creation. */
  readonly conversions: ValueConversions = { intAsDouble: 0 };
  readonly #headroom: number;
  readonly #frame = new Frame();
  readonly #time = new Uint32Array(new ArrayBuffer(8));
  // Start and end times, each remembered by value: the points of one collection share them.
  // Keyed by the exact numbers (compared with !==; NaN never matches, so it is converted each
  // time), and hrTimeHalves is a function of them alone: always the halves a fresh call gives.
  #startSeconds = NaN;
  #startNanos = NaN;
  #startLo = 0;
  #startHi = 0;
  #endSeconds = NaN;
  #endNanos = NaN;
  #endLo = 0;
  #endHi = 0;
  /** What the last {@linkcode encodePacked} wrote. */
  readonly packed: PackedResult = { count: 0, oversize: 0, spilled: false };
  readonly #dimensions: Dimensions | undefined;
  /** The prefix the last point left in the staging memory, and where (see {@linkcode encode}). */
  #prefixInPlace: Uint8Array | undefined = undefined;
  #prefixAt = -1;

  /**
   * Creates an encoder writing into `staging`.
   *
   * @param staging where events are written (native memory for real sinks)
   * @param headroom bytes the sink needs in front of the payload (its event header)
   * @param options prepopulated dimensions
   */
  constructor(staging: Uint8Array, headroom: number, options: PointEncoderOptions = {}) {
    this.writer = new ProtoWriter(staging);
    this.#headroom = headroom;
    const dimensions = options.dimensions;
    this.#dimensions = dimensions && Object.keys(dimensions).length > 0
      ? new Dimensions(dimensions)
      : undefined;
  }

  /** Marks the start of an export: forgets what the staging memory held (anything may have touched it). */
  beginExport(): void {
    this.#prefixInPlace = undefined;
  }

  /**
   * Encodes `point` of the metric of `env`; returns the payload's first byte. `index`: the
   * point's position in its metric's `dataPoints` (where its attribute set is looked for in
   * the stream's cache); -1 for none.
   */
  encode(env: MetricEnvelope, point: AnyPoint, index = -1): number {
    const w = this.writer;
    const bodyStart = this.#headroom + env.reserve + POINT_HEADER;
    w.reset(bodyStart);
    if (env.oversize) return this.#abandon(bodyStart);
    this.writeBody(env, point, index);
    const bodyLength = w.pos - bodyStart;
    w.raw(env.tail);
    const header = 1 + varintSize(bodyLength);
    const frame = this.#frame;
    env.frame(header + bodyLength, frame);
    const prefix = env.prefix(frame);
    // One copy of everything constant, then the lengths into their gaps. The copy is skipped
    // when the previous point left this very prefix at this very place during this export, in
    // the home buffer: nothing else writes there (the body goes after it, the sink's header
    // before it).
    const b = w.buf;
    const start = bodyStart - header - prefix.length;
    if (prefix !== this.#prefixInPlace || start !== this.#prefixAt || w.spilled) {
      b.set(prefix, start);
      this.#prefixInPlace = w.spilled ? undefined : prefix;
      this.#prefixAt = start;
    }
    env.writeLengths(b, start, frame);
    b[bodyStart - header] = DATA_POINTS_TAG;
    putVarint(b, bodyStart - header + 1, bodyLength);
    return start;
  }

  /**
   * Encodes points `from`, `from + 1`, … of one metric into ONE request — one resource, one
   * scope, one metric, N data points, the shape of opentelemetry-rust-contrib PR #780 — as many
   * as fit in `limit` bytes, at most `maxPoints`. Sized exactly: after each point the envelope
   * computes the whole request's length ({@linkcode MetricEnvelope.frame}), so a point that
   * would cross `limit` is taken back and starts the next request (no slack, no guess).
   * Returns the payload's first byte; {@linkcode packed} says how many points it holds. With
   * `packed.count` 0 the point at `from` alone is over `limit` (its request would take
   * `packed.oversize` bytes) or, with `packed.spilled`, over the staging memory: drop it and
   * go on with `from + 1`.
   */
  encodePacked(
    env: MetricEnvelope,
    points: readonly unknown[],
    from: number,
    maxPoints: number,
    limit: number,
  ): number {
    const w = this.writer;
    const bodyStart = this.#headroom + env.reserve;
    const frame = this.#frame;
    const out = this.packed;
    out.count = 0;
    out.oversize = 0;
    out.spilled = false;
    w.reset(bodyStart);
    this.#prefixInPlace = undefined; // the prefix moves with the points' total length
    const end = Math.min(points.length, from + maxPoints);
    for (let i = from; i < end; i++) {
      const mark = w.pos;
      w.ensure(1);
      w.buf[w.pos++] = DATA_POINTS_TAG;
      const content = w.fork();
      if (!env.oversize) this.writeBody(env, points[i] as AnyPoint, i);
      w.join(content);
      env.frame(w.pos - bodyStart, frame);
      if (env.oversize || w.spilled || frame.request > limit) {
        if (i === from) {
          out.oversize = env.oversize || w.spilled
            ? Math.max(frame.request, w.capacity)
            : frame.request;
          // As the one-point path tells them apart: over the limit, else over the staging.
          out.spilled = w.spilled && !env.oversize && frame.request <= limit;
          w.reset(bodyStart);
          return bodyStart;
        }
        // The home buffer still holds every byte before `mark` (spilling copies, never moves).
        w.reset(mark);
        break;
      }
      out.count++;
    }
    const pointsLength = w.pos - bodyStart;
    w.raw(env.tail);
    env.frame(pointsLength, frame);
    const prefix = env.prefix(frame);
    const start = bodyStart - prefix.length;
    const b = w.buf;
    b.set(prefix, start);
    env.writeLengths(b, start, frame);
    return start;
  }

  /** A point that cannot fit (its envelope is over every limit): spilled, for the caller to drop. */
  #abandon(start: number): number {
    const w = this.writer;
    w.pos = w.capacity;
    w.ensure(1);
    w.pos++;
    return start;
  }

  /**
   * Writes the body of `point` (the data point message's fields, no tag or length) at
   * `writer.pos`, advancing it. {@linkcode encode} wraps it into a request.
   *
   * @throws {TypeError} for a data point type the SDK does not have
   */
  writeBody(env: MetricEnvelope, point: AnyPoint, index = -1): void {
    const w = this.writer;
    switch (env.kind) {
      case PointKind.Sum:
      case PointKind.Gauge:
        return this.#numberPoint(w, env, point, index);
      case PointKind.Histogram:
        return this.#histogramPoint(w, env, point as DataPoint<Histogram>, index);
      case PointKind.ExponentialHistogram:
        return this.#exponentialPoint(w, env, point as DataPoint<ExponentialHistogram>, index);
      default:
        throw new TypeError(`unknown dataPointType ${env.kind} of metric "${env.name}"`);
    }
  }

  /** `start_time_unix_nano` (2) and `time_unix_nano` (3) as fixed64, at `w.pos` (room ensured). */
  #times(w: ProtoWriter, point: AnyPoint): void {
    const start = point.startTime as HrTime;
    const end = point.endTime as HrTime;
    const s0 = start[0], s1 = start[1], e0 = end[0], e1 = end[1];
    if (s0 !== this.#startSeconds || s1 !== this.#startNanos) {
      hrTimeHalves(s0, s1, this.#time);
      this.#startSeconds = s0;
      this.#startNanos = s1;
      this.#startLo = this.#time[0]!;
      this.#startHi = this.#time[1]!;
    }
    if (e0 !== this.#endSeconds || e1 !== this.#endNanos) {
      hrTimeHalves(e0, e1, this.#time);
      this.#endSeconds = e0;
      this.#endNanos = e1;
      this.#endLo = this.#time[0]!;
      this.#endHi = this.#time[1]!;
    }
    const b = w.buf, dv = w.dv, p = w.pos;
    b[p] = START_TIME_TAG;
    dv.setUint32(p + 1, this.#startLo, true);
    dv.setUint32(p + 5, this.#startHi, true);
    b[p + 9] = TIME_TAG;
    dv.setUint32(p + 10, this.#endLo, true);
    dv.setUint32(p + 14, this.#endHi, true);
    w.pos = p + 18;
  }

  /** `NumberDataPoint` (see fields.ts). */
  #numberPoint(w: ProtoWriter, env: MetricEnvelope, point: AnyPoint, index: number): void {
    w.ensure(27);
    this.#times(w, point);
    const value = point.value as number;
    if (env.integer && value >= MIN_INT64 && value < MAX_INT64) {
      w.buf[w.pos++] = NUMBER_POINT_AS_INT_TAG;
      w.sfixed64(value);
    } else {
      if (env.integer) this.conversions.intAsDouble++;
      w.buf[w.pos++] = NUMBER_POINT_AS_DOUBLE_TAG;
      w.double(value);
    }
    env.attributes.write(w, point.attributes, F.NumberPoint.attributes, this.drops, index);
    this.#dimensions?.write(w, point.attributes, F.NumberPoint.attributes);
    this.#flags(w, point, F.NumberPoint.flags);
  }

  /** `HistogramDataPoint` (see fields.ts). */
  #histogramPoint(
    w: ProtoWriter,
    env: MetricEnvelope,
    point: DataPoint<Histogram>,
    index: number,
  ): void {
    const h = point.value;
    const counts = h.buckets.counts;
    const bounds = h.buckets.boundaries;
    w.ensure(48 + 8 * (counts.length + bounds.length));
    this.#times(w, point);
    w.buf[w.pos++] = HISTOGRAM_POINT_COUNT_TAG;
    w.sfixed64(h.count);
    if (h.sum !== undefined) {
      w.buf[w.pos++] = HISTOGRAM_POINT_SUM_TAG;
      w.double(h.sum);
    }
    // Room for both packed fields was ensured above: their bytes go straight in.
    if (counts.length > 0) {
      w.buf[w.pos++] = HISTOGRAM_POINT_BUCKET_COUNTS_TAG;
      w.uint32(counts.length * 8);
      const dv = w.dv;
      let p = w.pos;
      for (let i = 0; i < counts.length; i++) {
        const c = counts[i]!;
        if (c >= 0 && c < TWO_32) {
          dv.setUint32(p, c, true);
          dv.setUint32(p + 4, 0, true);
          p += 8;
        } else {
          w.pos = p;
          w.sfixed64(c);
          p = w.pos;
        }
      }
      w.pos = p;
    }
    if (bounds.length > 0) {
      w.buf[w.pos++] = HISTOGRAM_POINT_EXPLICIT_BOUNDS_TAG;
      w.uint32(bounds.length * 8);
      const dv = w.dv;
      let p = w.pos;
      for (let i = 0; i < bounds.length; i++, p += 8) dv.setFloat64(p, bounds[i]!, true);
      w.pos = p;
    }
    env.attributes.write(w, point.attributes, F.HistogramPoint.attributes, this.drops, index);
    this.#dimensions?.write(w, point.attributes, F.HistogramPoint.attributes);
    this.#flags(w, point, F.HistogramPoint.flags);
    if (h.min !== undefined) {
      w.uint32(HISTOGRAM_POINT_MIN_TAG);
      w.double(h.min);
    }
    if (h.max !== undefined) {
      w.uint32(HISTOGRAM_POINT_MAX_TAG);
      w.double(h.max);
    }
  }

  /** `ExponentialHistogramDataPoint` (see fields.ts). */
  #exponentialPoint(
    w: ProtoWriter,
    env: MetricEnvelope,
    point: DataPoint<ExponentialHistogram>,
    index: number,
  ): void {
    const h = point.value;
    env.attributes.write(w, point.attributes, F.ExponentialPoint.attributes, this.drops, index);
    this.#dimensions?.write(w, point.attributes, F.ExponentialPoint.attributes);
    w.ensure(54);
    this.#times(w, point);
    w.buf[w.pos++] = EXPONENTIAL_POINT_COUNT_TAG;
    w.sfixed64(h.count);
    if (h.sum !== undefined) {
      w.buf[w.pos++] = EXPONENTIAL_POINT_SUM_TAG;
      w.double(h.sum);
    }
    if (h.scale !== 0) {
      w.buf[w.pos++] = EXPONENTIAL_POINT_SCALE_TAG;
      w.sint32(h.scale);
    }
    w.buf[w.pos++] = EXPONENTIAL_POINT_ZERO_COUNT_TAG;
    w.sfixed64(h.zeroCount);
    buckets(w, F.ExponentialPoint.positive, h.positive.offset, h.positive.bucketCounts);
    buckets(w, F.ExponentialPoint.negative, h.negative.offset, h.negative.bucketCounts);
    this.#flags(w, point, F.ExponentialPoint.flags);
    if (h.min !== undefined) {
      w.uint32(EXPONENTIAL_POINT_MIN_TAG);
      w.double(h.min);
    }
    if (h.max !== undefined) {
      w.uint32(EXPONENTIAL_POINT_MAX_TAG);
      w.double(h.max);
    }
    const threshold = (h as { zeroThreshold?: number }).zeroThreshold;
    if (threshold) {
      w.uint32(EXPONENTIAL_POINT_ZERO_THRESHOLD_TAG);
      w.double(threshold);
    }
  }

  #flags(w: ProtoWriter, point: AnyPoint, field: number): void {
    const flags = (point as PointExtras).flags;
    if (flags) {
      w.tag(field, VARINT);
      w.uint32(flags);
    }
  }
}

const OFFSET_TAG = tag(F.Buckets.offset, VARINT);
const BUCKET_COUNTS_TAG = tag(F.Buckets.bucketCounts, LEN);

/**
 * `ExponentialHistogramDataPoint.Buckets` under `field`: always written (also when empty), as
 * otlp-transformer writes it.
 */
function buckets(w: ProtoWriter, field: number, offset: number, counts: readonly number[]): void {
  const n = counts.length;
  const zigzag = ((offset << 1) ^ (offset >> 31)) >>> 0;
  const offsetSize = offset !== 0 ? 1 + varintSize(zigzag) : 0;
  const fieldTag = tag(field, LEN);
  if (n > 0) {
    // The usual case: every count an integer in [0, 127], one byte each, so the packed length
    // is n and every length is known before writing: the counts are copied in one pass. Any
    // other count falls back to fork / join.
    const bodyLength = offsetSize + 1 + varintSize(n) + n;
    const headSize = 1 + varintSize(bodyLength) + offsetSize + 1 + varintSize(n);
    w.ensure(headSize + n);
    const b = w.buf;
    const first = w.pos + headSize;
    let i = 0;
    for (; i < n; i++) {
      const c = counts[i]!;
      if ((c & 0x7f) !== c) break; // not an integer in [0, 127]
      b[first + i] = c;
    }
    if (i === n) {
      b[w.pos++] = fieldTag;
      w.uint32(bodyLength);
      if (offset !== 0) {
        b[w.pos++] = OFFSET_TAG;
        w.uint32(zigzag);
      }
      b[w.pos++] = BUCKET_COUNTS_TAG;
      w.uint32(n);
      w.pos += n;
      return;
    }
  }
  w.uint32(fieldTag);
  const body = w.fork();
  if (offset !== 0) {
    w.uint32(OFFSET_TAG);
    w.uint32(zigzag);
  }
  if (n > 0) {
    w.uint32(BUCKET_COUNTS_TAG);
    const packed = w.fork();
    for (let i = 0; i < n; i++) w.int64(counts[i]!);
    w.join(packed);
  }
  w.join(body);
}
