/**
 * A known workload produced by the real SDK: every instrument kind, int and double, attributes
 * of every type, several scopes, a resource with attributes and a schema URL. Shared by the
 * unit tests, the examples' checks and the kernel tier.
 *
 * @module
 */
import { ValueType } from "@opentelemetry/api";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  AggregationTemporality,
  AggregationType,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from "@opentelemetry/sdk-metrics";
import { gauge, point, resourceMetrics } from "./builders.ts";

/** A reader that collects on demand. */
export class ManualReader extends MetricReader {
  constructor(temporality: AggregationTemporality = AggregationTemporality.DELTA) {
    super({ aggregationTemporalitySelector: () => temporality });
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** Resource attributes of the workload. */
export const RESOURCE_ATTRIBUTES = {
  "service.name": "checkout",
  "service.instance.id": "i-42",
  "host.cores": 2,
};

/** The attribute values of every type the SDK passes through. */
export const ALL_TYPES_ATTRIBUTES = {
  str: "value",
  utf8: "grüße ✓ 🚀",
  bool: true,
  int: 42,
  negative: -7,
  big: 2 ** 53 - 1,
  double: 3.25,
  strings: ["a", "b"],
  mixed: [1, "two", false, 2.5],
  bytes: new Uint8Array([0, 1, 254, 255]),
  map: { inner: "x", deeper: { n: 1 } },
  empty: null,
};

/** Creates a provider over `reader` with an exponential-histogram view for `exp.*`. */
export function workloadProvider(reader: MetricReader): MeterProvider {
  const resource = resourceFromAttributes(RESOURCE_ATTRIBUTES, {
    schemaUrl: "https://opentelemetry.io/schemas/1.26.0",
  });
  return new MeterProvider({
    resource,
    readers: [reader],
    views: [{
      instrumentName: "exp.*",
      aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: 160 } },
    }],
  });
}

/** Data points in one collection of the workload ({@linkcode recordWorkload}). */
export const WORKLOAD_POINTS = 14;

/** Records the workload; returns how many points one collection yields ({@linkcode WORKLOAD_POINTS}). */
export function recordWorkload(provider: MeterProvider): number {
  const app = provider.getMeter("app", "1.2.3", { schemaUrl: "https://example.com/schema" });
  const lib = provider.getMeter("lib");
  app.createCounter("requests", { description: "Requests served", unit: "{request}" })
    .add(3, { route: "/a", ok: true });
  app.createCounter("requests.bytes", { valueType: ValueType.INT, unit: "By" })
    .add(1024, ALL_TYPES_ATTRIBUTES);
  const upDown = app.createUpDownCounter("inflight", { valueType: ValueType.INT });
  upDown.add(5, { pool: "p1" });
  upDown.add(-8, { pool: "p2" });
  const latency = app.createHistogram("latency", { unit: "ms" });
  for (const v of [0.5, 3, 7, 12, 120, 2500, 9999]) latency.record(v, { route: "/a" });
  latency.record(42, { route: "/b" });
  app.createHistogram("sizes", {
    valueType: ValueType.INT,
    advice: { explicitBucketBoundaries: [10, 100] },
  })
    .record(55);
  const exp = app.createHistogram("exp.latency");
  for (const v of [0.001, 0.5, 1, 2, 3, 100, 1e6, -4, 0, -0.25]) exp.record(v, { kind: "exp" });
  app.createGauge("temperature").record(-12.75, { room: "lab" });
  app.createGauge("queue.depth", { valueType: ValueType.INT }).record(17);
  lib.createObservableCounter("lib.cpu").addCallback((r) => r.observe(9.5, { cpu: 0 }));
  lib.createObservableGauge("lib.mem", { valueType: ValueType.INT }).addCallback((r) => {
    r.observe(4096, { kind: "heap" });
    r.observe(8192, { kind: "rss" });
  });
  lib.createObservableUpDownCounter("lib.handles").addCallback((r) => r.observe(-2));
  return WORKLOAD_POINTS;
}

/** Collects the workload once with a fresh provider. */
export async function collectWorkload(
  temporality: AggregationTemporality = AggregationTemporality.DELTA,
): Promise<ResourceMetrics> {
  const reader = new ManualReader(temporality);
  const provider = workloadProvider(reader);
  recordWorkload(provider);
  const { resourceMetrics, errors } = await reader.collect();
  if (errors.length) throw errors[0];
  await provider.shutdown();
  return resourceMetrics;
}

/**
 * A one-point gauge whose attribute `p` holds `pad` bytes: for payload-limit tests, where
 * `pad` is tuned until the encoded event has an exact size.
 */
export function paddedPoint(pad: number): ResourceMetrics {
  return resourceMetrics({
    resource: { attributes: { "service.name": "limit" } },
    scope: { name: "limit" },
    metrics: [gauge("big", [point(1, { p: "x".repeat(pad) }, [1, 0], [2, 0])])],
  });
}
