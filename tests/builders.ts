/**
 * The one builder for hand-made `ResourceMetrics`: the shapes the SDK hands an exporter, with
 * defaults for everything a test does not care about. Hand-made data is for values the SDK
 * can pass through but a workload cannot easily produce (edge cases, bad input); everything
 * else comes from the real SDK (workload.ts).
 *
 * @example
 * ```ts
 * import { gauge, point, resourceMetrics } from "./builders.ts";
 * const rm = resourceMetrics({ metrics: [gauge("temperature", [point(21.5, { room: "lab" })])] });
 * if (rm.scopeMetrics[0]!.metrics[0]!.dataPoints.length !== 1) throw new Error();
 * ```
 *
 * @module
 */
import { ProtobufMetricsSerializer } from "@opentelemetry/otlp-transformer";
import { AggregationTemporality, type ResourceMetrics } from "@opentelemetry/sdk-metrics";

/** An HrTime `[seconds, nanoseconds]`. */
export type HrTime = [number, number];

/** Default start and end times of a {@linkcode point}. */
export const T0: HrTime = [1_790_000_000, 123_456_789];
/** Default end time. */
export const T1: HrTime = [1_790_000_010, 999_999_999];

/** A data point of any value, as the SDK shapes it. */
export interface PointShape {
  startTime: HrTime;
  endTime: HrTime;
  attributes: unknown;
  value: unknown;
  [extra: string]: unknown;
}

/** A data point: `value` with `attributes` (default none) between `start` and `end`. */
export function point(
  value: unknown,
  attributes: unknown = {},
  start: HrTime = T0,
  end: HrTime = T1,
  extras: Record<string, unknown> = {},
): PointShape {
  return { startTime: start, endTime: end, attributes, value, ...extras };
}

/** A metric descriptor. `valueType` 0 = INT, 1 = DOUBLE. */
export interface DescriptorShape {
  name: string;
  description: string;
  unit: string;
  valueType: number;
  [extra: string]: unknown;
}

/** Options shared by the metric builders. */
export interface MetricOptions {
  description?: string;
  unit?: string;
  /** 0 = INT, 1 = DOUBLE (default). */
  valueType?: number;
  /** SDK temporality (default DELTA). */
  temporality?: AggregationTemporality;
  /** A descriptor object to use as is (to share one between collections, as the SDK does). */
  descriptor?: DescriptorShape;
}

/** A metric shape; `dataPointType` 0 histogram, 1 exponential, 2 gauge, 3 sum. */
export type MetricShape = Record<string, unknown> & {
  descriptor: DescriptorShape;
  dataPointType: number;
  dataPoints: PointShape[];
};

/** A metric of any `dataPointType` (also one the SDK does not have). */
export function metric(
  name: string,
  dataPointType: number,
  dataPoints: PointShape[],
  options: MetricOptions & { isMonotonic?: boolean } = {},
): MetricShape {
  const descriptor = options.descriptor ?? {
    name,
    description: options.description ?? "",
    unit: options.unit ?? "",
    valueType: options.valueType ?? 1,
  };
  return {
    descriptor,
    aggregationTemporality: options.temporality ?? AggregationTemporality.DELTA,
    dataPointType,
    ...(dataPointType === 3 ? { isMonotonic: options.isMonotonic ?? false } : {}),
    dataPoints,
  };
}

/** A gauge. */
export function gauge(name: string, points: PointShape[], o: MetricOptions = {}): MetricShape {
  return metric(name, 2, points, o);
}

/** A sum (`isMonotonic` default false). */
export function sum(
  name: string,
  points: PointShape[],
  o: MetricOptions & { isMonotonic?: boolean } = {},
): MetricShape {
  return metric(name, 3, points, o);
}

/** An explicit-bucket histogram. */
export function histogram(name: string, points: PointShape[], o: MetricOptions = {}): MetricShape {
  return metric(name, 0, points, o);
}

/** An exponential histogram. */
export function exponentialHistogram(
  name: string,
  points: PointShape[],
  o: MetricOptions = {},
): MetricShape {
  return metric(name, 1, points, o);
}

/** A scope with its metrics. */
export interface ScopeShape {
  scope?: { name: string; version?: string; schemaUrl?: string; attributes?: unknown };
  metrics: MetricShape[];
}

/**
 * A `ResourceMetrics`: one scope of `metrics` (or several `scopes`) under `resource` (default
 * `{ attributes: { "service.name": "test" } }`).
 */
export function resourceMetrics(options: {
  resource?: { attributes: unknown; schemaUrl?: string };
  metrics?: MetricShape[];
  scope?: ScopeShape["scope"];
  scopes?: ScopeShape[];
}): ResourceMetrics {
  const scopes = options.scopes ??
    [{
      scope: options.scope ?? { name: "test", version: "1.0.0" },
      metrics: options.metrics ?? [],
    }];
  return {
    resource: options.resource ?? { attributes: { "service.name": "test" } },
    scopeMetrics: scopes.map((s) => ({ scope: s.scope ?? { name: "test" }, metrics: s.metrics })),
  } as unknown as ResourceMetrics;
}

/** `rm` with only `point` of `metric` (indices into `rm`): the request of one point, as the SDK would make it. */
export function singlePoint(
  rm: ResourceMetrics,
  scopeIndex: number,
  metricIndex: number,
  pointIndex: number,
): ResourceMetrics {
  const sm = rm.scopeMetrics[scopeIndex]!;
  const m = sm.metrics[metricIndex]!;
  return {
    resource: rm.resource,
    scopeMetrics: [{
      scope: sm.scope,
      metrics: [{ ...m, dataPoints: [m.dataPoints[pointIndex]!] } as typeof m],
    }],
  };
}

/**
 * The official serializer's request for each point of `rm` alone, in `rm`'s order: what one
 * event per point must hold, byte for byte.
 */
export function officialSinglePointRequests(rm: ResourceMetrics): Uint8Array[] {
  const out: Uint8Array[] = [];
  rm.scopeMetrics.forEach((sm, si) =>
    sm.metrics.forEach((m, mi) =>
      m.dataPoints.forEach((_, pi) =>
        out.push(ProtobufMetricsSerializer.serializeRequest(singlePoint(rm, si, mi, pi))!)
      )
    )
  );
  return out;
}
