/**
 * One data point → one `ExportMetricsServiceRequest`, written straight into the staging buffer:
 * the point's body forward, then the enclosing messages' headers backwards in front of it, so no
 * sizing pass and no intermediate objects are needed.
 *
 * @module
 */
import type { DataPoint, ExponentialHistogram, Histogram } from "@opentelemetry/sdk-metrics";
import { AttributeCache, type AttributeDropCounts, type SeriesSlots } from "./attributes.ts";
import { type MetricEnvelope, PointKind, prefixKey } from "./envelope.ts";
import { hrTimeHalves, ProtoWriter, putVarint, varint53Size, varintSize } from "./wire.ts";

type HrTime = [number, number];
const TWO_32 = 4294967296;
type AnyPoint = DataPoint<unknown>;

/** Optional fields the SDK does not produce today but OTLP carries; written when present. */
interface PointExtras {
  flags?: number;
}

/**
 * Encodes data points as complete requests into `staging`. After {@linkcode encode}, the
 * payload is `writer.buf[start, writer.pos)`; if `writer.spilled` it outgrew `staging` (and so
 * every size limit) and must be dropped.
 *
 * Nothing is allocated per point: times are converted once per distinct value, attribute sets
 * come from the cache when the SDK hands the same object again, and the constant part of each
 * request (resource, scope, metric header, tags) is one precomputed copy.
 *
 * @example
 * ```ts
 * import { PointEncoder } from "./event.ts";
 * const encoder = new PointEncoder(new Uint8Array(new ArrayBuffer(8192)), 0);
 * ```
 */
export class PointEncoder {
  /** The writer over the staging buffer. */
  readonly writer: ProtoWriter;
  /** Values dropped from attributes since creation. */
  readonly drops: AttributeDropCounts = { unsupported: 0, tooDeep: 0 };
  readonly #headroom: number;
  readonly #attributes = new AttributeCache();
  readonly #time = new Uint32Array(new ArrayBuffer(8));
  // Start and end times, each remembered by value: the points of one collection share them.
  #startSeconds = NaN;
  #startNanos = NaN;
  #startLo = 0;
  #startHi = 0;
  #endSeconds = NaN;
  #endNanos = NaN;
  #endLo = 0;
  #endHi = 0;
  // The last explicit-bounds array seen twice in a row, and its encoding.
  #boundsCandidate: unknown = undefined;
  #boundsArray: unknown = undefined;
  #boundsBytes: Uint8Array = new Uint8Array(0);
  /** The prefix the last point left in the staging memory (see {@linkcode encode}). */
  #prefixInPlace: Uint8Array | undefined = undefined;
  // The stream and position of the point being written, for the attribute cache.
  #slots: SeriesSlots | undefined = undefined;
  #index = -1;

  /**
   * @param staging where events are written (native memory for real sinks)
   * @param headroom bytes the sink needs in front of the payload (its event header)
   */
  constructor(staging: Uint8Array, headroom: number) {
    this.writer = new ProtoWriter(staging);
    this.#headroom = headroom;
  }

  /**
   * Marks the start of an export: lets the attribute cache judge whether caching pays, and
   * forgets what the staging memory held (anything may have touched it between exports).
   */
  beginExport(): void {
    this.#attributes.beginExport();
    this.#prefixInPlace = undefined;
  }

  /**
   * Encodes `point` of the metric of `env`; returns the payload's first byte. `index`: the
   * point's position in its metric's `dataPoints` (lets the attribute cache find the set by
   * position); -1 when unknown.
   */
  encode(env: MetricEnvelope, point: AnyPoint, index = -1): number {
    const w = this.writer;
    const bodyStart = this.#headroom + env.reserve;
    w.reset(bodyStart);
    this.writeBody(env, point, index);
    const bodyLength = w.pos - bodyStart;
    const tail = env.tail;
    const tailLength = tail.length;
    if (tailLength > 0) {
      if (tailLength <= 8) {
        // A few bytes (temporality, monotonic): a loop beats a call into TypedArray#set.
        w.ensure(tailLength);
        const b = w.buf;
        let p = w.pos;
        for (let i = 0; i < tailLength; i++) b[p++] = tail[i]!;
        w.pos = p;
      } else w.raw(tail);
    }
    // Lengths, innermost first: Data, Metric, ScopeMetrics, ResourceMetrics.
    const bodySize = varintSize(bodyLength);
    const dataLength = 1 + bodySize + bodyLength + env.dataTailLength;
    const dataSize = varintSize(dataLength);
    const metricLength = env.metricHead.length + 1 + dataSize + dataLength;
    const metricSize = varintSize(metricLength);
    const scopeMetricsLength = env.scope.length + 1 + metricSize + metricLength +
      env.scopeTailLength;
    const scopeMetricsSize = varintSize(scopeMetricsLength);
    const resourceMetricsLength = env.resource.length + 1 + scopeMetricsSize +
      scopeMetricsLength + (tail.length - env.dataTailLength - env.scopeTailLength);
    const resourceMetricsSize = varintSize(resourceMetricsLength);
    const prefix = env.prefix(
      prefixKey(resourceMetricsSize, scopeMetricsSize, metricSize, dataSize, bodySize),
    );
    // One copy of everything constant, then the five lengths into their gaps. The copy is
    // skipped when the previous point left this very prefix here: same metric, same length
    // sizes, in the home buffer, during this export. Nothing else writes there: the body goes
    // after it and the sink's header (`headroom`) before it.
    const b = w.buf;
    const start = bodyStart - prefix.length;
    if (prefix !== this.#prefixInPlace || w.spilled) {
      b.set(prefix, start);
      this.#prefixInPlace = w.spilled ? undefined : prefix;
    }
    let p = start + 1;
    putVarint(b, p, resourceMetricsLength);
    p += resourceMetricsSize + env.resource.length + 1;
    putVarint(b, p, scopeMetricsLength);
    p += scopeMetricsSize + env.scope.length + 1;
    putVarint(b, p, metricLength);
    p += metricSize + env.metricHead.length + 1;
    putVarint(b, p, dataLength);
    putVarint(b, p + dataSize + 1, bodyLength);
    return start;
  }

  /**
   * Writes the body of `point` (the data point message's fields, no tag or length) at
   * `writer.pos`, advancing it. {@linkcode encode} wraps it into a request.
   */
  writeBody(env: MetricEnvelope, point: AnyPoint, index = -1): void {
    const w = this.writer;
    this.#slots = env.slots;
    this.#index = index;
    switch (env.kind) {
      case PointKind.Sum:
      case PointKind.Gauge:
        this.#numberPoint(w, point, env.integer);
        break;
      case PointKind.Histogram:
        this.#histogramPoint(w, point as DataPoint<Histogram>);
        break;
      case PointKind.ExponentialHistogram:
        this.#exponentialPoint(w, point as DataPoint<ExponentialHistogram>);
        break;
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
    b[p] = 0x11;
    dv.setUint32(p + 1, this.#startLo, true);
    dv.setUint32(p + 5, this.#startHi, true);
    b[p + 9] = 0x19;
    dv.setUint32(p + 10, this.#endLo, true);
    dv.setUint32(p + 14, this.#endHi, true);
    w.pos = p + 18;
  }

  #numberPoint(w: ProtoWriter, point: AnyPoint, integer: boolean): void {
    w.ensure(27);
    this.#times(w, point);
    const value = point.value as number;
    const p = w.pos;
    if (integer) {
      w.buf[p] = 0x31; // as_int = 6, sfixed64
      w.pos = p + 1;
      fixed64(w, value);
    } else {
      w.buf[p] = 0x21; // as_double = 4
      w.dv.setFloat64(p + 1, value, true);
      w.pos = p + 9;
    }
    this.#attributes.write(w, point.attributes, 7, this.drops, this.#slots, this.#index);
    this.#flags(w, point, 8);
  }

  #histogramPoint(w: ProtoWriter, point: DataPoint<Histogram>): void {
    const h = point.value;
    const counts = h.buckets.counts;
    const bounds = h.buckets.boundaries;
    w.ensure(48 + 8 * (counts.length + bounds.length));
    this.#times(w, point);
    w.buf[w.pos++] = 0x21; // count = 4, fixed64
    fixed64(w, h.count);
    if (h.sum !== undefined) {
      w.buf[w.pos] = 0x29; // sum = 5
      w.dv.setFloat64(w.pos + 1, h.sum, true);
      w.pos += 9;
    }
    if (counts.length > 0) {
      w.buf[w.pos++] = 0x32; // bucket_counts = 6, packed fixed64
      w.uint32(counts.length * 8);
      let dv = w.dv;
      let p = w.pos;
      for (let i = 0; i < counts.length; i++) {
        const c = counts[i]!;
        if (c >= 0 && c < TWO_32) {
          dv.setUint32(p, c, true);
          dv.setUint32(p + 4, 0, true);
          p += 8;
        } else {
          w.pos = p;
          w.fixed64Number(c);
          dv = w.dv;
          p = w.pos;
        }
      }
      w.pos = p;
    }
    if (bounds.length > 0) this.#bounds(w, bounds);
    this.#attributes.write(w, point.attributes, 9, this.drops, this.#slots, this.#index);
    this.#flags(w, point, 10);
    if (h.min !== undefined) {
      w.uint32(0x59); // min = 11
      w.double(h.min);
    }
    if (h.max !== undefined) {
      w.uint32(0x61); // max = 12
      w.double(h.max);
    }
  }

  /**
   * `explicit_bounds` (7), packed doubles. The SDK hands one boundaries array per instrument,
   * the same for every point and collection: once an array comes twice in a row its encoding
   * is kept and copied (the boundaries of an instrument never change).
   */
  #bounds(w: ProtoWriter, bounds: readonly number[]): void {
    const cached = this.#boundsBytes;
    if (
      bounds === this.#boundsArray &&
      cached.length === 1 + varintSize(bounds.length * 8) + bounds.length * 8
    ) {
      w.raw(cached);
      return;
    }
    const start = w.pos;
    w.buf[w.pos++] = 0x3a;
    w.uint32(bounds.length * 8);
    const dv = w.dv;
    let p = w.pos;
    for (let i = 0; i < bounds.length; i++, p += 8) dv.setFloat64(p, bounds[i]!, true);
    w.pos = p;
    if (bounds === this.#boundsCandidate) {
      this.#boundsArray = bounds;
      this.#boundsBytes = w.buf.slice(start, p);
    }
    this.#boundsCandidate = bounds;
  }

  #exponentialPoint(w: ProtoWriter, point: DataPoint<ExponentialHistogram>): void {
    const h = point.value;
    this.#attributes.write(w, point.attributes, 1, this.drops, this.#slots, this.#index);
    w.ensure(54);
    this.#times(w, point);
    w.buf[w.pos++] = 0x21; // count = 4
    fixed64(w, h.count);
    if (h.sum !== undefined) {
      w.buf[w.pos] = 0x29; // sum = 5
      w.dv.setFloat64(w.pos + 1, h.sum, true);
      w.pos += 9;
    }
    if (h.scale !== 0) {
      w.buf[w.pos++] = 0x30; // scale = 6, sint32
      w.sint32(h.scale);
    }
    w.buf[w.pos++] = 0x39; // zero_count = 7, fixed64
    fixed64(w, h.zeroCount);
    buckets(w, 0x42, h.positive.offset, h.positive.bucketCounts); // positive = 8
    buckets(w, 0x4a, h.negative.offset, h.negative.bucketCounts); // negative = 9
    this.#flags(w, point, 10);
    if (h.min !== undefined) {
      w.uint32(0x61); // min = 12
      w.double(h.min);
    }
    if (h.max !== undefined) {
      w.uint32(0x69); // max = 13
      w.double(h.max);
    }
    const threshold = (h as { zeroThreshold?: number }).zeroThreshold;
    if (threshold) {
      w.uint32(0x71); // zero_threshold = 14
      w.double(threshold);
    }
  }

  #flags(w: ProtoWriter, point: AnyPoint, field: number): void {
    const flags = (point as PointExtras).flags;
    if (flags) {
      w.uint32(field << 3);
      w.uint32(flags);
    }
  }
}

/** A fixed64 of an integral number at `w.pos`; 8 bytes of room must be ensured. */
function fixed64(w: ProtoWriter, value: number): void {
  if (value >= 0 && value < TWO_32) {
    const dv = w.dv, p = w.pos;
    dv.setUint32(p, value, true);
    dv.setUint32(p + 4, 0, true);
    w.pos = p + 8;
  } else w.fixed64Number(value);
}

/** `ExponentialHistogramDataPoint.Buckets`: always written, as otlp-transformer does. */
function buckets(w: ProtoWriter, tag: number, offset: number, counts: readonly number[]): void {
  const n = counts.length;
  const zigzag = ((offset << 1) ^ (offset >> 31)) >>> 0;
  const offsetSize = offset !== 0 ? 1 + varintSize(zigzag) : 0;
  if (n > 0) {
    // The usual case: every count an integer below 128, one byte each, so the packed length
    // is n and the counts are copied in one pass. Any other count falls back to sizing first.
    const headSize = 1 + varintSize(offsetSize + 1 + varintSize(n) + n) + offsetSize + 1 +
      varintSize(n);
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
      b[w.pos++] = tag;
      w.uint32(offsetSize + 1 + varintSize(n) + n);
      if (offset !== 0) {
        b[w.pos++] = 0x08;
        w.uint32(zigzag);
      }
      b[w.pos++] = 0x12;
      w.uint32(n);
      w.pos += n;
      return;
    }
  }
  let packed = 0;
  for (let i = 0; i < n; i++) packed += varint53Size(counts[i]!);
  const size = offsetSize + (n > 0 ? 1 + varintSize(packed) + packed : 0);
  w.uint32(tag);
  w.uint32(size);
  if (offset !== 0) {
    w.uint32(0x08);
    w.uint32(zigzag);
  }
  if (n > 0) {
    w.uint32(0x12);
    w.uint32(packed);
    for (let i = 0; i < n; i++) {
      const c = counts[i]!;
      if (c < TWO_32) w.uint32(c);
      else w.varint64(c % TWO_32, Math.floor(c / TWO_32));
    }
  }
}
