/**
 * The benchmark's data: `ResourceMetrics` produced by the real SDK (a `MeterProvider` with a
 * manual reader that is collected on demand), never hand-made objects.
 *
 * Series are split across the four point types: sums (a monotonic INT counter and a DOUBLE
 * up-down counter), gauges, explicit-bucket histograms and exponential histograms. Every series
 * has 3 to 5 attributes (strings, integers, booleans). Values come from a seeded generator, so
 * two runs record the same measurements.
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

/**
 * How the application passes attributes:
 * - `steady`: one attributes object per series, kept and reused (the same objects);
 * - `fresh`: a new literal at every recording, with the same values every interval (new
 *   objects, repeating values: `counter.add(1, { route })`);
 * - `unique`: a new literal at every recording whose `http.route` value was never seen before
 *   (new objects, never-seen string values: a request id, a full URL).
 */
export type AttributeMode = "steady" | "fresh" | "unique";

/** A reader collected by hand: `collect()` is the whole pipeline the periodic reader runs. */
class ManualReader extends MetricReader {
  constructor(temporality: AggregationTemporality) {
    super({
      aggregationTemporalitySelector: () => temporality,
      // Up to 2,500 series per instrument: above the SDK's default limit of 2,000.
      cardinalitySelector: () => 100_000,
    });
  }
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** A small deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ROUTES = [
  "/",
  "/api/v1/orders",
  "/api/v1/orders/{id}",
  "/api/v1/users/{id}",
  "/health",
  "/login",
];
const METHODS = ["GET", "POST", "PUT", "DELETE"];
const REGIONS = ["eu-west-1", "us-east-1", "ap-south-1"];

/** The attributes of series `i`: 3, 4 or 5 keys, all series distinct. */
function seriesAttributes(i: number): Record<string, string | number | boolean> {
  const a: Record<string, string | number | boolean> = {
    "http.route": ROUTES[i % ROUTES.length]!,
    "http.request.method": METHODS[(i >> 3) % METHODS.length]!,
    "series.id": i,
  };
  if (i % 3 >= 1) a["cloud.region"] = REGIONS[i % REGIONS.length]!;
  if (i % 3 === 2) a["http.response.ok"] = i % 7 !== 0;
  return a;
}

/** Options of {@linkcode Workload}. */
export interface WorkloadOptions {
  /** Data points per collection (default 10,000), split evenly over the point types. */
  points?: number;
  /** How attributes are passed at each recording (default `steady`). */
  attributes?: AttributeMode;
  /** Temporality of the reader (default delta, as the exporter asks for). */
  temporality?: AggregationTemporality;
  /** Histogram samples recorded per series per cycle (default 4). */
  samples?: number;
}

/** A meter provider with 5 instruments and a manual reader. */
export class Workload {
  readonly points: number;
  readonly mode: AttributeMode;
  readonly #reader: ManualReader;
  readonly #provider: MeterProvider;
  readonly #record: () => void;

  constructor(options: WorkloadOptions = {}) {
    this.points = options.points ?? 10_000;
    this.mode = options.attributes ?? "steady";
    const samples = options.samples ?? 4;
    this.#reader = new ManualReader(options.temporality ?? AggregationTemporality.DELTA);
    this.#provider = new MeterProvider({
      resource: resourceFromAttributes({
        "service.name": "checkout",
        "service.version": "2.4.1",
        "service.instance.id": "6c1f3a52-0d4e-4b1b-9b5e-2f7e1d7c9a10",
        "host.name": "node-17.eu-west-1.internal",
        "deployment.environment.name": "production",
      }),
      readers: [this.#reader],
      views: [{
        instrumentName: "http.server.request.body.size",
        aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM },
        aggregationCardinalityLimit: 100_000,
      }],
    });
    const meter = this.#provider.getMeter("bench.checkout", "1.0.0");
    const requests = meter.createCounter("http.server.requests", {
      description: "Requests served",
      unit: "{request}",
      valueType: ValueType.INT,
    });
    const inflight = meter.createUpDownCounter("http.server.active_requests", {
      description: "Requests in flight",
      unit: "{request}",
    });
    const temperature = meter.createGauge("system.cpu.temperature", { unit: "Cel" });
    const duration = meter.createHistogram("http.server.request.duration", {
      description: "Duration of HTTP server requests",
      unit: "s",
    });
    const bodySize = meter.createHistogram("http.server.request.body.size", {
      description: "Size of HTTP request bodies",
      unit: "By",
      valueType: ValueType.INT,
    });

    const n = this.points;
    const quarter = Math.floor(n / 4);
    const sumSeries = quarter, gaugeSeries = quarter, histSeries = quarter;
    const expSeries = n - 3 * quarter;
    const steady = this.mode === "steady";
    const cache: Record<string, string | number | boolean>[] = [];
    for (let i = 0; i < n; i++) cache.push(seriesAttributes(i));
    let cycle = 0;
    const attrs = steady
      ? (i: number) => cache[i]!
      : this.mode === "fresh"
      ? seriesAttributes
      : (i: number) => {
        const a = seriesAttributes(i);
        a["http.route"] = `${a["http.route"]}/${cycle}/${i}`;
        return a;
      };
    const random = prng(42);
    this.#record = () => {
      cycle++;
      let s = 0;
      for (let i = 0; i < sumSeries; i++, s++) {
        if (i % 2 === 0) requests.add(1 + Math.floor(random() * 20), attrs(s));
        else inflight.add(Math.floor(random() * 10) - 5 + random(), attrs(s));
      }
      for (let i = 0; i < gaugeSeries; i++, s++) temperature.record(35 + random() * 40, attrs(s));
      for (let i = 0; i < histSeries; i++, s++) {
        const a = attrs(s);
        for (let k = 0; k < samples; k++) duration.record(Math.exp(random() * 6 - 6) * 5, a);
      }
      for (let i = 0; i < expSeries; i++, s++) {
        const a = attrs(s);
        for (let k = 0; k < samples; k++) {
          bodySize.record(Math.floor(200 + random() * random() * 8000), a);
        }
      }
    };
  }

  /** Records one cycle of measurements into every series (a new literal per call in `fresh` mode). */
  record(): void {
    this.#record();
  }

  /** Collects what was recorded since the last collection (delta). */
  async collect(): Promise<ResourceMetrics> {
    const { resourceMetrics, errors } = await this.#reader.collect();
    if (errors.length > 0) throw new AggregateError(errors, "collection failed");
    return resourceMetrics;
  }

  /** One cycle: record, then collect. */
  async cycle(): Promise<ResourceMetrics> {
    this.record();
    return await this.collect();
  }

  /** Number of data points in `rm`. */
  static countPoints(rm: ResourceMetrics): number {
    let n = 0;
    for (const s of rm.scopeMetrics) for (const m of s.metrics) n += m.dataPoints.length;
    return n;
  }

  async shutdown(): Promise<void> {
    await this.#provider.shutdown();
  }
}
