/**
 * The push exporter for `@opentelemetry/sdk-metrics`: one event per data point into a
 * {@linkcode NativeSink}.
 *
 * @module
 */
import { type ExportResult, ExportResultCode } from "@opentelemetry/core";
import {
  AggregationTemporality,
  InstrumentType,
  type PushMetricExporter,
  type ResourceMetrics,
} from "@opentelemetry/sdk-metrics";
import { copyStats, emptyStats, type ExporterStats, RateLimitedLog } from "./diagnostics.ts";
import { EnvelopeCache, type MetricEnvelope } from "./encoder/envelope.ts";
import { PointEncoder } from "./encoder/event.ts";
import { createSink, type SinkChoice, type SinkOptions } from "./sinks/select.ts";
import { type NativeSink, WRITE_NOT_LISTENING, WRITE_OK } from "./sinks/sink.ts";

/** How sums and histograms aggregate over time. */
export type TemporalityPreference =
  | "delta"
  | "cumulative"
  | "lowmemory"
  | ((instrumentType: InstrumentType) => AggregationTemporality);

/** Options of {@linkcode NativeMetricsExporter}. */
export interface NativeMetricsExporterOptions extends SinkOptions {
  /**
   * Where events go: a sink object, or `"auto"` (default: user_events on Linux, ETW on Windows),
   * `"user_events"`, `"etw"`.
   */
  sink?: NativeSink | SinkChoice;
  /**
   * Temporality per instrument. Default `"delta"` for every instrument, as the Rust and .NET
   * exporters (and the Geneva agent) expect. `"lowmemory"`: delta for counters and histograms
   * only; `"cumulative"`: cumulative everywhere; or a function.
   */
  temporality?: TemporalityPreference;
  /** Minimum milliseconds between two diagnostic messages of one kind (default 60000). */
  diagIntervalMs?: number;
}

/**
 * Exports metrics into the operating system's tracing facility, one OTLP
 * `ExportMetricsServiceRequest` per data point, wire-compatible with the Rust crates
 * `opentelemetry-user-events-metrics` / `opentelemetry-etw-metrics` and the .NET Geneva exporter.
 *
 * Nothing is encoded while nobody listens. Every data point ends up written, skipped because
 * nobody listened, or dropped with its reason counted in {@linkcode stats}; `export()` never
 * throws and reports FAILED when it dropped points.
 *
 * @example
 * ```ts ignore
 * import { MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
 * import { NativeMetricsExporter } from "./exporter.ts";
 *
 * const exporter = new NativeMetricsExporter(); // user_events on Linux, ETW on Windows
 * const provider = new MeterProvider({
 *   readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 10_000 })],
 * });
 * provider.getMeter("my-service").createCounter("requests").add(1, { route: "/" });
 * await provider.shutdown(); // flushes the last interval and unregisters
 * ```
 */
export class NativeMetricsExporter implements PushMetricExporter {
  /** The sink events are written to. */
  readonly sink: NativeSink;
  readonly #encoder: PointEncoder;
  readonly #envelopes = new EnvelopeCache();
  readonly #stats = emptyStats();
  readonly #log: RateLimitedLog;
  readonly #temporality: (t: InstrumentType) => AggregationTemporality;
  #shutdown = false;

  /**
   * Creates the exporter and, for native sinks, registers with the OS.
   *
   * @throws {NativeSinkError} when the sink cannot be set up; the message says what is missing
   */
  constructor(options: NativeMetricsExporterOptions = {}) {
    const sink = options.sink ?? "auto";
    this.sink = typeof sink === "string" ? createSink(sink, options) : sink;
    this.#encoder = new PointEncoder(this.sink.staging, this.sink.headroom);
    this.#log = new RateLimitedLog(options.diagIntervalMs ?? 60_000);
    this.#temporality = temporalitySelector(options.temporality ?? "delta");
  }

  /** A snapshot of the counters. */
  get stats(): ExporterStats {
    const s = copyStats(this.#stats);
    s.attributeValuesDropped = { ...this.#encoder.drops };
    return s;
  }

  /** Whether a listener is attached now. */
  isEnabled(): boolean {
    return !this.#shutdown && this.sink.isEnabled();
  }

  selectAggregationTemporality(instrumentType: InstrumentType): AggregationTemporality {
    return this.#temporality(instrumentType);
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    let result: ExportResult;
    try {
      result = this.#export(metrics);
    } catch (error) {
      // Only a data shape the SDK never produces gets here; count what was not handled.
      const e = error instanceof Error ? error : new Error(String(error));
      this.#log.log("error", "encode", () => `export failed: ${e.message}`);
      result = { code: ExportResultCode.FAILED, error: e };
    }
    resultCallback(result);
  }

  #export(metrics: ResourceMetrics): ExportResult {
    const stats = this.#stats;
    stats.exports++;
    if (this.#shutdown) {
      const n = countPoints(metrics);
      stats.pointsDropped.afterShutdown += n;
      this.#log.log("warn", "after-shutdown", () => `export after shutdown: ${n} point(s) dropped`);
      return { code: ExportResultCode.FAILED, error: new Error("exporter is shut down") };
    }
    const sink = this.sink;
    if (!sink.isEnabled()) {
      // Nobody listens: skip the whole export without encoding (or allocating) anything.
      stats.pointsSkippedNoListener += countPoints(metrics);
      this.#log.log("debug", "no-listener", this.#noListenerMessage);
      return SUCCESS;
    }
    const encoder = this.#encoder;
    encoder.beginExport();
    const dropsBefore = stats.pointsDropped.oversize + stats.pointsDropped.writeError +
      stats.pointsDropped.encodeError;
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
        this.#writePoints(env, points);
      }
    }
    const d = stats.pointsDropped;
    const dropped = d.oversize + d.writeError + d.encodeError - dropsBefore;
    if (dropped > 0) {
      return {
        code: ExportResultCode.FAILED,
        error: new Error(`${dropped} data point(s) dropped (see exporter.stats.pointsDropped)`),
      };
    }
    return SUCCESS;
  }

  /**
   * The hot loop: every point of one metric, encoded and written as one event each. Kept
   * apart from the export's bookkeeping, and its rare outcomes in methods of their own, so it
   * stays small for the JIT: it runs once per metric, so it gets optimized as a whole rather
   * than only by on-stack replacement inside one long export.
   */
  #writePoints(env: MetricEnvelope, points: readonly unknown[]): void {
    const sink = this.sink;
    const encoder = this.#encoder;
    const writer = encoder.writer;
    const limit = sink.maxPayloadSize;
    const stats = this.#stats;
    for (let i = 0; i < points.length; i++) {
      if (!sink.isEnabled()) {
        stats.pointsSkippedNoListener += points.length - i;
        break;
      }
      let start: number;
      try {
        start = encoder.encode(env, points[i] as Parameters<PointEncoder["encode"]>[1], i);
      } catch (error) {
        this.#encodeFailed(env, error);
        continue;
      }
      const size = writer.pos - start;
      if (writer.spilled || size > limit) {
        this.#oversize(env, size, limit);
        continue;
      }
      const rc = sink.write(start, writer.pos);
      if (rc === WRITE_OK) {
        stats.eventsWritten++;
        stats.bytesWritten += size;
      } else if (rc === WRITE_NOT_LISTENING) {
        stats.pointsSkippedNoListener++;
      } else this.#writeFailed(env, rc);
    }
  }

  #encodeFailed(env: MetricEnvelope, error: unknown): void {
    this.#stats.pointsDropped.encodeError++;
    this.#log.log(
      "error",
      "encode",
      () =>
        `cannot encode a point of ${env.name}: ${error instanceof Error ? error.message : error}`,
    );
  }

  #oversize(env: MetricEnvelope, size: number, limit: number): void {
    const stats = this.#stats;
    stats.pointsDropped.oversize++;
    stats.lastOversize = { metric: env.name, size, limit };
    this.#log.log(
      "warn",
      "oversize",
      () =>
        `dropped a point of metric "${env.name}": ${size} bytes encoded, over the ${this.sink.kind} ` +
        `limit of ${limit} (see maxPayloadSize)`,
    );
  }

  #writeFailed(env: MetricEnvelope, rc: number): void {
    const stats = this.#stats;
    stats.pointsDropped.writeError++;
    const name = this.sink.describeError(rc);
    stats.writeErrors[name] = (stats.writeErrors[name] ?? 0) + 1;
    this.#log.log(
      "warn",
      `write-${rc}`,
      () => `${this.sink.kind} write failed with ${name}: point of "${env.name}" dropped`,
    );
  }

  readonly #noListenerMessage = (): string => `no ${this.sink.kind} listener: points skipped`;

  /** Nothing is buffered: every export is written synchronously. */
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  /** Unregisters from the OS. Later exports fail cleanly and count their points. Idempotent. */
  shutdown(): Promise<void> {
    if (!this.#shutdown) {
      this.#shutdown = true;
      try {
        this.sink.shutdown();
      } catch (error) {
        this.#log.log("error", "shutdown", () => `sink shutdown failed: ${error}`);
      }
    }
    return Promise.resolve();
  }
}

/** The result of every successful export: one frozen object, nothing allocated per call. */
const SUCCESS: ExportResult = Object.freeze({ code: ExportResultCode.SUCCESS });

function countPoints(metrics: ResourceMetrics): number {
  let n = 0;
  for (const s of metrics.scopeMetrics) for (const m of s.metrics) n += m.dataPoints.length;
  return n;
}

function temporalitySelector(
  preference: TemporalityPreference,
): (t: InstrumentType) => AggregationTemporality {
  if (typeof preference === "function") return preference;
  switch (preference) {
    case "delta":
      return () => AggregationTemporality.DELTA;
    case "cumulative":
      return () => AggregationTemporality.CUMULATIVE;
    case "lowmemory":
      return (t) =>
        t === InstrumentType.COUNTER || t === InstrumentType.HISTOGRAM
          ? AggregationTemporality.DELTA
          : AggregationTemporality.CUMULATIVE;
    default:
      throw new RangeError(`unknown temporality preference: ${String(preference)}`);
  }
}
