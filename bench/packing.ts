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
import { EnvelopeCache, Frame, type MetricEnvelope } from "../src/encoder/envelope.ts";
import { PointEncoder } from "../src/encoder/event.ts";
import { Data } from "../src/encoder/fields.ts";
import { tag, WireType } from "../src/encoder/wire.ts";

const DATA_POINTS_TAG = tag(Data.dataPoints, WireType.LengthDelimited);
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
  readonly #frame = new Frame();

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
          w.uint32(DATA_POINTS_TAG);
          const body = w.fork();
          encoder.writeBody(env, points[i] as AnyPoint, i);
          w.join(body);
          let length: number;
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
    b.set(env.tail, end);
    const frame = this.#frame;
    env.frame(end - first, frame);
    const prefix = env.prefix(frame);
    const start = first - prefix.length;
    b.set(prefix, start);
    env.writeLengths(b, start, frame);
    const stop = end + env.tail.length;
    this.#sink.write(start, stop);
    this.stats.events++;
    this.stats.points += count;
    this.stats.bytes += stop - start;
  }
}

/** Size of the request carrying point fields of `pointsLength` bytes in the metric of `env`. */
function payloadSize(env: MetricEnvelope, pointsLength: number): number {
  env.frame(pointsLength, sizing);
  return sizing.request;
}

const sizing = new Frame();
