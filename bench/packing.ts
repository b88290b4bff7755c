/**
 * A bench-local packing encoder: as many data points of one metric as fit under the payload
 * limit go into one `ExportMetricsServiceRequest`, instead of one point per event. This is
 * NOT the consumers' wire contract (one point per event) and not an option of the exporter;
 * it exists to measure what packing would save.
 *
 * It reuses the library's point encoder for the point bodies and its envelopes (precomputed
 * resource, scope and metric bytes), writes the points one after another into the sink's
 * native staging memory, and writes the request through the same `writev` path.
 *
 * @module
 */
import type { ResourceMetrics } from "@opentelemetry/sdk-metrics";
import { EnvelopeCache, type MetricEnvelope, prefixKey } from "../src/encoder/envelope.ts";
import { PointEncoder } from "../src/encoder/event.ts";
import { varintSize } from "../src/encoder/wire.ts";
import type { NativeSink } from "../src/sinks/sink.ts";

type AnyPoint = Parameters<PointEncoder["encode"]>[1];

/** Counters of a packing export. */
export interface PackingStats {
  events: number;
  points: number;
  bytes: number;
  dropped: number;
}

/** Encodes several points per request, up to the sink's `maxPayloadSize`. */
export class PackingExporter {
  readonly stats: PackingStats = { events: 0, points: 0, bytes: 0, dropped: 0 };
  readonly #sink: NativeSink;
  readonly #encoder: PointEncoder;
  readonly #envelopes = new EnvelopeCache();

  constructor(sink: NativeSink) {
    this.#sink = sink;
    this.#encoder = new PointEncoder(sink.staging, sink.headroom);
  }

  export(metrics: ResourceMetrics): void {
    const sink = this.#sink;
    if (!sink.isEnabled()) return;
    const encoder = this.#encoder;
    const w = encoder.writer;
    const limit = sink.maxPayloadSize;
    for (const scopeMetrics of metrics.scopeMetrics) {
      for (const metric of scopeMetrics.metrics) {
        const points = metric.dataPoints as readonly unknown[];
        if (points.length === 0) continue;
        const env = this.#envelopes.envelope(
          metrics.resource,
          scopeMetrics.scope,
          metric,
          encoder.drops,
        );
        const first = sink.headroom + env.reserve; // where the first point's field goes
        w.reset(first);
        let count = 0;
        for (let i = 0; i < points.length; i++) {
          const fieldStart = w.pos;
          w.ensure(2);
          w.buf[fieldStart] = 0x0a; // data_points = 1
          w.pos = fieldStart + 2; // room for a one-byte length
          encoder.writeBody(env, points[i] as AnyPoint, i);
          let length = w.pos - fieldStart - 2;
          if (length >= 0x80) {
            const extra = varintSize(length) - 1;
            w.ensure(extra);
            w.buf.copyWithin(fieldStart + 2 + extra, fieldStart + 2, w.pos);
            w.pos += extra;
          }
          putVarint(w.buf, fieldStart + 1, length);
          if (w.spilled) {
            // Only a point far over every limit gets here (none in the benchmark's data).
            this.stats.dropped += points.length - i + count;
            count = 0;
            break;
          }
          if (payloadSize(env, w.pos - first) <= limit) {
            count++;
            continue;
          }
          // This point does not fit: write what came before it, then start over with it.
          if (count > 0) {
            // Park this point's field past the room the tail needs, flush, then move it first.
            const fieldEnd = w.pos;
            length = fieldEnd - fieldStart;
            const parked = fieldEnd + env.tail.length;
            w.ensure(env.tail.length + length);
            if (w.spilled) {
              this.stats.dropped += points.length - i + count;
              count = 0;
              break;
            }
            w.buf.copyWithin(parked, fieldStart, fieldEnd);
            this.#flush(env, first, fieldStart, count);
            w.buf.copyWithin(first, parked, parked + length);
            w.reset(first + length);
          }
          if (payloadSize(env, w.pos - first) > limit) {
            this.stats.dropped++; // too large even alone
            w.reset(first);
            count = 0;
          } else count = 1;
        }
        if (count > 0 && !w.spilled) this.#flush(env, first, w.pos, count);
      }
    }
  }

  /** Wraps the point fields in `staging[first, end)` into a request and writes it. */
  #flush(env: MetricEnvelope, first: number, end: number, count: number): void {
    const w = this.#encoder.writer;
    const b = w.buf;
    const pointsLength = end - first;
    let p = end;
    const tail = env.tail;
    b.set(tail, p);
    p += tail.length;
    const dataLength = pointsLength + env.dataTailLength;
    const dataSize = varintSize(dataLength);
    const metricLength = env.metricHead.length + 1 + dataSize + dataLength;
    const metricSize = varintSize(metricLength);
    const scopeMetricsLength = env.scope.length + 1 + metricSize + metricLength +
      env.scopeTailLength;
    const scopeMetricsSize = varintSize(scopeMetricsLength);
    const resourceMetricsLength = env.resource.length + 1 + scopeMetricsSize +
      scopeMetricsLength + (tail.length - env.dataTailLength - env.scopeTailLength);
    const resourceMetricsSize = varintSize(resourceMetricsLength);
    // The envelope's prefix without the single point's `data_points` tag and length.
    const full = env.prefix(
      prefixKey(resourceMetricsSize, scopeMetricsSize, metricSize, dataSize, 1),
    );
    const prefix = full.subarray(0, full.length - 2);
    const start = first - prefix.length;
    b.set(prefix, start);
    let q = start + 1;
    putVarint(b, q, resourceMetricsLength);
    q += resourceMetricsSize + env.resource.length + 1;
    putVarint(b, q, scopeMetricsLength);
    q += scopeMetricsSize + env.scope.length + 1;
    putVarint(b, q, metricLength);
    q += metricSize + env.metricHead.length + 1;
    putVarint(b, q, dataLength);
    this.#sink.write(start, p);
    this.stats.events++;
    this.stats.points += count;
    this.stats.bytes += p - start;
  }
}

/** Size of the request carrying point fields of `pointsLength` bytes in the metric of `env`. */
function payloadSize(env: MetricEnvelope, pointsLength: number): number {
  const dataLength = pointsLength + env.dataTailLength;
  const metricLength = env.metricHead.length + 1 + varintSize(dataLength) + dataLength;
  const scopeMetricsLength = env.scope.length + 1 + varintSize(metricLength) + metricLength +
    env.scopeTailLength;
  const resourceMetricsLength = env.resource.length + 1 + varintSize(scopeMetricsLength) +
    scopeMetricsLength + (env.tail.length - env.dataTailLength - env.scopeTailLength);
  return 1 + varintSize(resourceMetricsLength) + resourceMetricsLength;
}

function putVarint(b: Uint8Array, p: number, value: number): void {
  let v = value >>> 0;
  while (v > 0x7f) {
    b[p++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  b[p] = v;
}
