/**
 * Merges per-point OTLP requests (one resource, scope, metric and point each, as the exporters
 * write them) into batched requests in which each resource, each scope under it and each metric
 * under that appears once, holding many points. A FIFO of points in arrival order: batches are
 * cut from the oldest end, bounded in points and bytes, and overflow drops oldest-first.
 *
 * @module
 */
import { create, toBinary } from "@bufbuild/protobuf";
import {
  ExportMetricsServiceRequestSchema,
} from "../../proto/gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.ts";
// The documented public alias (./decode, re-exported by ./forward), not the generated name.
import type { ExportMetricsServiceRequest } from "../decode.ts";
import {
  InstrumentationScopeSchema,
} from "../../proto/gen/opentelemetry/proto/common/v1/common_pb.ts";
import {
  type Metric,
  MetricSchema,
  type ResourceMetrics,
  type ScopeMetrics,
} from "../../proto/gen/opentelemetry/proto/metrics/v1/metrics_pb.ts";
import { ResourceSchema } from "../../proto/gen/opentelemetry/proto/resource/v1/resource_pb.ts";

/** A point of any kind (NumberDataPoint, HistogramDataPoint, ...). */
type AnyPoint = { attributes: unknown[] };

interface Entry {
  resourceKey: string;
  resourceMetrics: ResourceMetrics;
  scopeKey: string;
  scopeMetrics: ScopeMetrics;
  metricKey: string;
  metric: Metric;
  point: AnyPoint;
  /** Approximate encoded size (the request's size shared by its points). */
  bytes: number;
}

/** Options of {@linkcode MetricsBatcher}. */
export interface BatcherOptions {
  /** Most points in one batch (default 1000). */
  maxBatchPoints?: number;
  /** Most bytes of per-point payloads merged into one batch (default 1 MiB). */
  maxBatchBytes?: number;
}

/** One batch cut by {@linkcode MetricsBatcher.take}. */
export interface Batch {
  /** The merged request. */
  request: ExportMetricsServiceRequest;
  /** Points in `request`. */
  points: number;
}

function latin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return s;
}

/** The metric without its points: name, description, unit, kind, temporality, monotonicity. */
function metricShell(m: Metric): { key: string; shell: () => Metric } {
  const d = m.data;
  const temporality = d.case === "sum" || d.case === "histogram" ||
      d.case === "exponentialHistogram"
    ? d.value.aggregationTemporality
    : 0;
  const monotonic = d.case === "sum" ? d.value.isMonotonic : false;
  const key = JSON.stringify([m.name, m.description, m.unit, d.case, temporality, monotonic]);
  return {
    key,
    shell: () => {
      const out = create(MetricSchema, { name: m.name, description: m.description, unit: m.unit });
      switch (d.case) {
        case "gauge":
          out.data = { case: "gauge", value: { ...d.value, dataPoints: [] } };
          break;
        case "sum":
          out.data = { case: "sum", value: { ...d.value, dataPoints: [] } };
          break;
        case "histogram":
          out.data = { case: "histogram", value: { ...d.value, dataPoints: [] } };
          break;
        case "exponentialHistogram":
          out.data = { case: "exponentialHistogram", value: { ...d.value, dataPoints: [] } };
          break;
        case "summary":
          out.data = { case: "summary", value: { ...d.value, dataPoints: [] } };
          break;
      }
      return out;
    },
  };
}

function pointsOf(m: Metric): AnyPoint[] {
  return m.data.case === undefined ? [] : m.data.value.dataPoints as AnyPoint[];
}

/**
 * The merging FIFO. Not thread-safe (JavaScript has one thread); `take` and `add` are
 * synchronous.
 *
 * @example
 * ```ts
 * import { MetricsBatcher } from "./batcher.ts";
 * const batcher = new MetricsBatcher({ maxBatchPoints: 500 });
 * // batcher.add(decodeMetricsPayload(payload), payload.length) per event, then:
 * const batch = batcher.take(); // undefined: nothing queued
 * console.log(batch?.points ?? 0);
 * ```
 */
export class MetricsBatcher {
  /** Most points per batch. */
  readonly maxBatchPoints: number;
  /** Most payload bytes per batch. */
  readonly maxBatchBytes: number;
  #entries: Entry[] = [];
  #head = 0;
  #bytes = 0;
  /** Arrival time (ms) of the oldest queued point, per entry. */
  #arrivals: number[] = [];

  /** An empty batcher. @throws {RangeError} a limit below 1 */
  constructor(options: BatcherOptions = {}) {
    this.maxBatchPoints = options.maxBatchPoints ?? 1000;
    this.maxBatchBytes = options.maxBatchBytes ?? 1 << 20;
    if (!(this.maxBatchPoints >= 1) || !(this.maxBatchBytes >= 1)) {
      throw new RangeError("maxBatchPoints and maxBatchBytes must be ≥ 1");
    }
  }

  /** Points queued. */
  get points(): number {
    return this.#entries.length - this.#head;
  }

  /** Bytes queued (approximate: payload bytes shared by their points). */
  get bytes(): number {
    return this.#bytes;
  }

  /** When the oldest queued point arrived (ms since the epoch), or undefined. */
  get oldestArrival(): number | undefined {
    return this.points > 0 ? this.#arrivals[this.#head] : undefined;
  }

  /** Queues every point of `request`; returns how many. `size`: its encoded size. */
  add(request: ExportMetricsServiceRequest, size: number = 0, now: number = Date.now()): number {
    let total = 0;
    for (const rm of request.resourceMetrics) {
      for (const sm of rm.scopeMetrics) for (const m of sm.metrics) total += pointsOf(m).length;
    }
    if (total === 0) return 0;
    const share = Math.max(1, Math.ceil(size / total));
    for (const rm of request.resourceMetrics) {
      const resourceKey = latin1(toBinary(ResourceSchema, rm.resource ?? create(ResourceSchema))) +
        "\0" + rm.schemaUrl;
      for (const sm of rm.scopeMetrics) {
        const scopeKey = latin1(
          toBinary(InstrumentationScopeSchema, sm.scope ?? create(InstrumentationScopeSchema)),
        ) + "\0" + sm.schemaUrl;
        for (const m of sm.metrics) {
          const { key } = metricShell(m);
          for (const point of pointsOf(m)) {
            this.#entries.push({
              resourceKey,
              resourceMetrics: rm,
              scopeKey,
              scopeMetrics: sm,
              metricKey: key,
              metric: m,
              point,
              bytes: share,
            });
            this.#arrivals.push(now);
            this.#bytes += share;
          }
        }
      }
    }
    return total;
  }

  /** Drops the `n` oldest points; returns how many were dropped. */
  dropOldest(n: number): number {
    const k = Math.min(n, this.points);
    for (let i = 0; i < k; i++) this.#bytes -= this.#entries[this.#head + i]!.bytes;
    this.#head += k;
    this.#compact();
    return k;
  }

  #compact(): void {
    if (this.#head > 4096 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#arrivals = this.#arrivals.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Cuts the oldest points (up to the limits) into one merged request. */
  take(): Batch | undefined {
    if (this.points === 0) return undefined;
    const resources = new Map<string, { rm: ResourceMetrics; scopes: Map<string, ScopeGroup> }>();
    type ScopeGroup = { sm: ScopeMetrics; metrics: Map<string, Metric> };
    const request = create(ExportMetricsServiceRequestSchema);
    let points = 0, bytes = 0;
    while (this.points > 0 && points < this.maxBatchPoints) {
      const e = this.#entries[this.#head]!;
      if (points > 0 && bytes + e.bytes > this.maxBatchBytes) break;
      let r = resources.get(e.resourceKey);
      if (!r) {
        const rm = { ...e.resourceMetrics, scopeMetrics: [] } as ResourceMetrics;
        r = { rm, scopes: new Map() };
        resources.set(e.resourceKey, r);
        request.resourceMetrics.push(rm);
      }
      let s = r.scopes.get(e.scopeKey);
      if (!s) {
        const sm = { ...e.scopeMetrics, metrics: [] } as ScopeMetrics;
        s = { sm, metrics: new Map() };
        r.scopes.set(e.scopeKey, s);
        r.rm.scopeMetrics.push(sm);
      }
      let m = s.metrics.get(e.metricKey);
      if (!m) {
        m = metricShell(e.metric).shell();
        s.metrics.set(e.metricKey, m);
        s.sm.metrics.push(m);
      }
      pointsOf(m).push(e.point);
      points++;
      bytes += e.bytes;
      this.#bytes -= e.bytes;
      this.#head++;
    }
    this.#compact();
    return { request, points };
  }

  /** Encodes a batch. */
  static encode(batch: Batch): Uint8Array {
    return toBinary(ExportMetricsServiceRequestSchema, batch.request);
  }
}
