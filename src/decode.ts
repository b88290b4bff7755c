/**
 * Decoding event payloads back into OTLP with the generated protobuf-es schema: the `./decode`
 * entry point. The exporter itself never loads this module.
 *
 * @module
 */
import { fromBinary, toJson } from "@bufbuild/protobuf";
import {
  type ExportMetricsServiceRequest as GeneratedExportMetricsServiceRequest,
  ExportMetricsServiceRequestSchema,
} from "../proto/gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.ts";
import type { AnyValue, KeyValue } from "../proto/gen/opentelemetry/proto/common/v1/common_pb.ts";
import type { Metric } from "../proto/gen/opentelemetry/proto/metrics/v1/metrics_pb.ts";

/**
 * An OTLP `ExportMetricsServiceRequest` as protobuf-es decodes it with the generated schema
 * (`proto/gen`); each event holds one resource, scope, metric and data point.
 */
export type ExportMetricsServiceRequest = GeneratedExportMetricsServiceRequest;
export {
  type OtlpMetricsRecord,
  parseOtlpMetricsRecord,
  parseUserEventsWrite,
  type UserEventsWrite,
} from "./sinks/user_events/records.ts";

/** Decodes one event payload: an `ExportMetricsServiceRequest`. */
export function decodeMetricsPayload(payload: Uint8Array): ExportMetricsServiceRequest {
  return fromBinary(ExportMetricsServiceRequestSchema, payload);
}

/** A request as proto3 JSON (64-bit integers as strings, enums as numbers). */
export function requestToJson(request: ExportMetricsServiceRequest): unknown {
  return toJson(ExportMetricsServiceRequestSchema, request, { enumAsInteger: true });
}

/** One data point of a decoded request, flattened for reading and for tests. */
export interface FlatPoint {
  /** The resource's attributes. */
  resource: Record<string, unknown>;
  /** The instrumentation scope. */
  scope: { name: string; version: string; attributes: Record<string, unknown> };
  /** The metric; `kind` is the OTLP data case (`sum`, `gauge`, `histogram`, ...). */
  metric: { name: string; description: string; unit: string; kind: string };
  /** Sums and histograms: OTLP `AggregationTemporality` (1 delta, 2 cumulative). */
  temporality?: number;
  /** Sums: whether the sum is monotonic. */
  monotonic?: boolean;
  /** The point's attributes. */
  attributes: Record<string, unknown>;
  /** Start of the point's interval, ns since the epoch. */
  startTimeUnixNano: bigint;
  /** End of the point's interval, ns since the epoch. */
  timeUnixNano: bigint;
  /**
   * Sums and gauges: the number (`as_int` as bigint); histograms: `{ count, sum, min, max,
   * bucketCounts, explicitBounds }`; exponential histograms: `{ count, sum, min, max, scale,
   * zeroCount, positive, negative }`.
   */
  value: unknown;
}

/** Converts an OTLP `AnyValue` to a plain JS value (int64 as bigint). */
export function anyValueToJs(v: AnyValue | undefined): unknown {
  const x = v?.value;
  switch (x?.case) {
    case "stringValue":
    case "boolValue":
    case "doubleValue":
    case "intValue":
    case "bytesValue":
      return x.value;
    case "arrayValue":
      return x.value.values.map(anyValueToJs);
    case "kvlistValue":
      return keyValuesToJs(x.value.values);
    default:
      return null;
  }
}

/**
 * Converts repeated `KeyValue` to an object. Keys become own data properties whatever they are
 * called: an attribute named `__proto__` (or `constructor`) is an ordinary key of the result,
 * never its prototype, so decoded data cannot pollute objects. A repeated key: the last wins.
 *
 * @example
 * ```ts
 * import { keyValuesToJs } from "./decode.ts";
 * const attrs = keyValuesToJs([]);
 * console.log(Object.keys(attrs).length); // 0
 * ```
 */
export function keyValuesToJs(kvs: readonly KeyValue[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of kvs) {
    Object.defineProperty(out, kv.key, {
      value: anyValueToJs(kv.value),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** Every data point of `request`, flattened with its resource, scope and metric. */
export function flattenRequest(request: ExportMetricsServiceRequest): FlatPoint[] {
  const out: FlatPoint[] = [];
  for (const rm of request.resourceMetrics) {
    const resource = keyValuesToJs(rm.resource?.attributes ?? []);
    for (const sm of rm.scopeMetrics) {
      const scope = {
        name: sm.scope?.name ?? "",
        version: sm.scope?.version ?? "",
        attributes: keyValuesToJs(sm.scope?.attributes ?? []),
      };
      for (const m of sm.metrics) out.push(...flattenMetric(resource, scope, m));
    }
  }
  return out;
}

function flattenMetric(
  resource: FlatPoint["resource"],
  scope: FlatPoint["scope"],
  m: Metric,
): FlatPoint[] {
  const metric = {
    name: m.name,
    description: m.description,
    unit: m.unit,
    kind: m.data.case ?? "none",
  };
  const base = (
    p: { attributes: KeyValue[]; startTimeUnixNano: bigint; timeUnixNano: bigint },
  ) => ({
    resource,
    scope,
    metric,
    attributes: keyValuesToJs(p.attributes),
    startTimeUnixNano: p.startTimeUnixNano,
    timeUnixNano: p.timeUnixNano,
  });
  const d = m.data;
  switch (d.case) {
    case "gauge":
      return d.value.dataPoints.map((p) => ({ ...base(p), value: p.value.value }));
    case "sum":
      return d.value.dataPoints.map((p) => ({
        ...base(p),
        temporality: d.value.aggregationTemporality,
        monotonic: d.value.isMonotonic,
        value: p.value.value,
      }));
    case "histogram":
      return d.value.dataPoints.map((p) => ({
        ...base(p),
        temporality: d.value.aggregationTemporality,
        value: {
          count: p.count,
          sum: p.sum,
          min: p.min,
          max: p.max,
          bucketCounts: p.bucketCounts,
          explicitBounds: p.explicitBounds,
        },
      }));
    case "exponentialHistogram":
      return d.value.dataPoints.map((p) => ({
        ...base(p),
        temporality: d.value.aggregationTemporality,
        value: {
          count: p.count,
          sum: p.sum,
          min: p.min,
          max: p.max,
          scale: p.scale,
          zeroCount: p.zeroCount,
          positive: {
            offset: p.positive?.offset ?? 0,
            bucketCounts: p.positive?.bucketCounts ?? [],
          },
          negative: {
            offset: p.negative?.offset ?? 0,
            bucketCounts: p.negative?.bucketCounts ?? [],
          },
        },
      }));
    default:
      return [];
  }
}
