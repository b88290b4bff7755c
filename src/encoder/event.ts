/**
 * One data point → one `ExportMetricsServiceRequest`, written straight into the staging buffer:
 * the point's body forward, then the enclosing messages' headers backwards in front of it, so no
 * sizing pass and no intermediate objects are needed.
 *
 * @module
 */
import type { DataPoint, ExponentialHistogram, Histogram } from "@opentelemetry/sdk-metrics";
import { AttributeCache, type AttributeDropCounts } from "./attributes.ts";
import { type MetricEnvelope, PointKind } from "./envelope.ts";
import { hrTimeHalves, ProtoWriter, varint53Size, varintSize } from "./wire.ts";

type HrTime = [number, number];
/** Matches no HrTime, so the first point always converts its times. */
const NO_TIME = Object.freeze({});
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
  readonly #time = new Uint32Array(2);
  #lastTime: unknown = NO_TIME;
  #lastTimeLo = 0;
  #lastTimeHi = 0;

  /**
   * @param staging where events are written (native memory for real sinks)
   * @param headroom bytes the sink needs in front of the payload (its event header)
   */
  constructor(staging: Uint8Array, headroom: number) {
    this.writer = new ProtoWriter(staging);
    this.#headroom = headroom;
  }

  /** Encodes `point` of the metric of `env`; returns the payload's first byte. */
  encode(env: MetricEnvelope, point: AnyPoint): number {
    const w = this.writer;
    const bodyStart = this.#headroom + env.reserve;
    w.reset(bodyStart);
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
    const bodyLength = w.pos - bodyStart;
    w.raw(env.tail);
    // Lengths, innermost first: Data, Metric, ScopeMetrics, ResourceMetrics.
    const dataLength = 1 + varintSize(bodyLength) + bodyLength + env.dataTailLength;
    const metricLength = env.metricHead.length + 1 + varintSize(dataLength) + dataLength;
    const scopeMetricsLength = env.scope.length + 1 + varintSize(metricLength) + metricLength +
      env.scopeTailLength;
    const resourceMetricsLength = env.resource.length + 1 + varintSize(scopeMetricsLength) +
      scopeMetricsLength + (env.tail.length - env.dataTailLength - env.scopeTailLength);
    const b = w.buf;
    let p = w.prependVarint(bodyStart, bodyLength);
    b[--p] = 0x0a; // data_points = 1
    p = w.prependVarint(p, dataLength);
    b[--p] = env.dataTag;
    p = w.prependRaw(p, env.metricHead);
    p = w.prependVarint(p, metricLength);
    b[--p] = 0x12; // ScopeMetrics.metrics = 2
    p = w.prependRaw(p, env.scope);
    p = w.prependVarint(p, scopeMetricsLength);
    b[--p] = 0x12; // ResourceMetrics.scope_metrics = 2
    p = w.prependRaw(p, env.resource);
    p = w.prependVarint(p, resourceMetricsLength);
    b[--p] = 0x0a; // ExportMetricsServiceRequest.resource_metrics = 1
    return p;
  }

  #times(w: ProtoWriter, point: AnyPoint): void {
    this.#fixedTime(w, 0x11, point.startTime as HrTime); // start_time_unix_nano = 2
    this.#fixedTime(w, 0x19, point.endTime as HrTime); // time_unix_nano = 3
  }

  #fixedTime(w: ProtoWriter, tag: number, time: HrTime): void {
    // Points of one collection share their HrTime arrays: convert each array once.
    if (time !== this.#lastTime) {
      hrTimeHalves(time[0], time[1], this.#time);
      this.#lastTime = time;
      this.#lastTimeLo = this.#time[0]!;
      this.#lastTimeHi = this.#time[1]!;
    }
    w.uint32(tag);
    w.fixed64(this.#lastTimeLo, this.#lastTimeHi);
  }

  #numberPoint(w: ProtoWriter, point: AnyPoint, integer: boolean): void {
    this.#times(w, point);
    const value = point.value as number;
    if (integer) {
      w.uint32(0x31); // as_int = 6, sfixed64
      w.fixed64Number(value);
    } else {
      w.uint32(0x21); // as_double = 4
      w.double(value);
    }
    this.#attributes.write(w, point.attributes, 7, this.drops);
    this.#flags(w, point, 8);
  }

  #histogramPoint(w: ProtoWriter, point: DataPoint<Histogram>): void {
    const h = point.value;
    this.#times(w, point);
    w.uint32(0x21); // count = 4, fixed64
    w.fixed64Number(h.count);
    if (h.sum !== undefined) {
      w.uint32(0x29); // sum = 5
      w.double(h.sum);
    }
    const counts = h.buckets.counts;
    if (counts.length > 0) {
      w.uint32(0x32); // bucket_counts = 6, packed fixed64
      w.uint32(counts.length * 8);
      for (let i = 0; i < counts.length; i++) w.fixed64Number(counts[i]!);
    }
    const bounds = h.buckets.boundaries;
    if (bounds.length > 0) {
      w.uint32(0x3a); // explicit_bounds = 7, packed double
      w.uint32(bounds.length * 8);
      for (let i = 0; i < bounds.length; i++) w.double(bounds[i]!);
    }
    this.#attributes.write(w, point.attributes, 9, this.drops);
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

  #exponentialPoint(w: ProtoWriter, point: DataPoint<ExponentialHistogram>): void {
    const h = point.value;
    this.#attributes.write(w, point.attributes, 1, this.drops);
    this.#times(w, point);
    w.uint32(0x21); // count = 4
    w.fixed64Number(h.count);
    if (h.sum !== undefined) {
      w.uint32(0x29); // sum = 5
      w.double(h.sum);
    }
    if (h.scale !== 0) {
      w.uint32(0x30); // scale = 6, sint32
      w.sint32(h.scale);
    }
    w.uint32(0x39); // zero_count = 7, fixed64
    w.fixed64Number(h.zeroCount);
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

/** `ExponentialHistogramDataPoint.Buckets`: always written, as otlp-transformer does. */
function buckets(w: ProtoWriter, tag: number, offset: number, counts: readonly number[]): void {
  let packed = 0;
  for (let i = 0; i < counts.length; i++) packed += varint53Size(counts[i]!);
  const zigzag = ((offset << 1) ^ (offset >> 31)) >>> 0;
  const size = (offset !== 0 ? 1 + varintSize(zigzag) : 0) +
    (counts.length > 0 ? 1 + varintSize(packed) + packed : 0);
  w.uint32(tag);
  w.uint32(size);
  if (offset !== 0) {
    w.uint32(0x08);
    w.uint32(zigzag);
  }
  if (counts.length > 0) {
    w.uint32(0x12);
    w.uint32(packed);
    for (let i = 0; i < counts.length; i++) {
      const c = counts[i]!;
      if (c < 4294967296) w.uint32(c);
      else w.varint64(c % 4294967296, Math.floor(c / 4294967296));
    }
  }
}
