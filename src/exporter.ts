/**
 * The push exporter for `@opentelemetry/sdk-metrics`: one event per data point into a
 * {@linkcode NativeSink}, and what it does when the facility is missing.
 *
 * @module
 */
import {
  type AggregationOption,
  type AggregationSelector,
  AggregationTemporality,
  AggregationType,
  InstrumentType,
  type PushMetricExporter,
  type ResourceMetrics,
} from "@opentelemetry/sdk-metrics";
import {
  copyStats,
  emptyStats,
  type ExporterStats,
  RateLimitedLog,
  reportOnce,
} from "./diagnostics.ts";
import { EnvelopeCache, type MetricEnvelope } from "./encoder/envelope.ts";
import { PointEncoder } from "./encoder/event.ts";
import {
  type DimensionValue,
  type GenevaAccount,
  resolveAccount,
  validateDimensions,
  withAccount,
} from "./geneva.ts";
import {
  createSink,
  describeUnavailable,
  type ProbeResult,
  probeSink,
  type SinkChoice,
  type SinkOptions,
  type Unavailable,
  type UnavailableReason,
} from "./sinks/select.ts";
import { type NativeSink, WRITE_NOT_LISTENING, WRITE_OK } from "./sinks/sink.ts";

/** The result an exporter hands the SDK (`ExportResult` of `@opentelemetry/core`). */
export type ExportResult = Parameters<Parameters<PushMetricExporter["export"]>[1]>[0];

/**
 * How sums and histograms aggregate over time, as the OpenTelemetry JS exporters spell it: an
 * `AggregationTemporalityPreference` (`DELTA` 0, `CUMULATIVE` 1, `LOWMEMORY` 2) or an
 * `AggregationTemporality` value, its name as a string (any case), or a function per instrument.
 */
export type TemporalityPreference =
  | number
  | "delta"
  | "cumulative"
  | "lowmemory"
  | (string & Record<never, never>)
  | ((instrumentType: InstrumentType) => AggregationTemporality);

/** Retrying a facility that was unavailable when the exporter started. */
export interface RetryOptions {
  /** Delay before the first retry, in ms (default 1000). */
  initialDelayMs?: number;
  /** Longest delay between retries, in ms (default 300000); delays double up to it. */
  maxDelayMs?: number;
  /** Retries before giving up (default: unlimited). */
  maxAttempts?: number;
}

/** Options of {@linkcode NativeMetricsExporter}. */
export interface NativeMetricsExporterOptions extends SinkOptions {
  /**
   * Where events go: `"auto"` (default: user_events on Linux, ETW on Windows), `"user_events"`,
   * `"etw"`, a function that creates a sink, or a sink object. Names and functions are retried
   * while the facility is unavailable; a sink object is used as given.
   */
  sink?: NativeSink | SinkChoice | (() => NativeSink);
  /**
   * Temporality per instrument. Default `"delta"` for every instrument, as the Rust and .NET
   * exporters (and the Geneva agent) expect — also for UpDownCounters, unlike the OTLP
   * exporters' DELTA preset. `"lowmemory"`: delta for counters and histograms only;
   * `"cumulative"`: cumulative everywhere; or a function.
   */
  temporalityPreference?: TemporalityPreference;
  /** Aggregation per instrument (default: the SDK's default aggregation). */
  aggregationPreference?: AggregationSelector;
  /**
   * What a missing facility (no tracefs, no user_events, no permission, no FFI, another OS)
   * does at construction: `"warn"` (default) reports it once and keeps the exporter running,
   * counting the points it cannot write; `"throw"` throws the setup error; `"silent"` only counts.
   */
  onUnavailable?: "warn" | "throw" | "silent";
  /** Retrying an unavailable facility (default: 1 s, doubling up to 5 min); `false` never retries. */
  retry?: RetryOptions | false;
  /** Minimum milliseconds between two diagnostic messages of one kind (default 60000). */
  diagIntervalMs?: number;
  /**
   * The Geneva metrics account, written as the resource attribute `_microsoft_metrics_account`
   * after the resource's own attributes (as the .NET exporter's `Account`).
   */
  account?: string;
  /** The Geneva metrics namespace, written as the resource attribute `_microsoft_metrics_namespace`. */
  namespace?: string;
  /**
   * A Geneva connection string: its `Account` and `Namespace` are used (other keys ignored, as
   * .NET does); `account` / `namespace` given as options win.
   */
  connectionString?: string;
  /**
   * Dimensions added to every data point's attributes, after its own, serialized once (as
   * .NET's `PrepopulatedMetricDimensions`; validated the same way). A point's own attribute of
   * the same name wins: the dimension is left out of that point.
   */
  prepopulatedDimensions?: Readonly<Record<string, DimensionValue>>;
  /**
   * Data points per event: `1` (default: the consumers' contract — Geneva, the Rust and .NET
   * exporters write one point per event), a larger number, or `"max"`: several points of one
   * metric in one `ExportMetricsServiceRequest` (one resource, scope and metric, N points), up
   * to the sink's `maxPayloadSize`. Fewer events for many series; every listener must then
   * accept many points per event.
   */
  pointsPerEvent?: number | "max";
}

/** The exporter's state: writing, waiting for the facility, or shut down. */
export type ExporterStatus =
  | {
    /** Registered with the facility: events are written whenever someone listens. */
    state: "ready";
    /** The sink's kind (`"user_events"`, `"etw"`, `"memory"`, ...). */
    sink: string;
  }
  | ({
    /** The facility could not be set up; points are counted in `stats.pointsDropped.unavailable`. */
    state: "unavailable";
    /** Retries made so far. */
    attempts: number;
    /** When the next retry is due (epoch ms), if one is scheduled. */
    nextRetryAt?: number;
  } & Unavailable)
  | {
    /** `shutdown()` was called. */
    state: "shutdown";
  };

/** Where the exporter stands while the facility is unavailable. */
interface Waiting extends Unavailable {
  attempts: number;
  delayMs: number;
  nextRetryAt: number | undefined;
}

/**
 * Exports metrics into the operating system's tracing facility, one OTLP
 * `ExportMetricsServiceRequest` per data point, wire-compatible with the Rust crates
 * `opentelemetry-user-events-metrics` / `opentelemetry-etw-metrics` and the .NET Geneva exporter.
 *
 * Nothing is encoded while nobody listens. Every data point ends up written, skipped because
 * nobody listened, or dropped with its reason counted in {@linkcode stats}. `export()` never
 * throws; it reports FAILED when it dropped points for a per-point reason. A missing facility
 * does not throw either (unless `onUnavailable: "throw"`): it is reported once, shown in
 * {@linkcode status}, retried, and its points are counted.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
 * import { MemorySink } from "./sinks/memory.ts";
 * import { NativeMetricsExporter } from "./exporter.ts";
 *
 * const sink = new MemorySink(); // or the default, user_events on Linux / ETW on Windows
 * const exporter = new NativeMetricsExporter({ sink });
 * const provider = new MeterProvider({
 *   readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 10_000 })],
 * });
 * provider.getMeter("my-service").createCounter("requests").add(1, { route: "/" });
 * await provider.shutdown(); // flushes the last interval and unregisters
 * assert.equal(exporter.stats.eventsWritten, 1);
 * assert.equal(sink.events.length, 1);
 * ```
 */
export class NativeMetricsExporter implements PushMetricExporter {
  #sink: NativeSink | undefined;
  #encoder: PointEncoder | undefined;
  readonly #factory: (() => NativeSink) | undefined;
  readonly #envelopes = new EnvelopeCache();
  readonly #stats = emptyStats();
  readonly #log: RateLimitedLog;
  readonly #temporality: (t: InstrumentType) => AggregationTemporality;
  readonly #aggregation: AggregationSelector | undefined;
  readonly #retry: Required<RetryOptions> | undefined;
  readonly #quiet: boolean;
  readonly #account: GenevaAccount | undefined;
  readonly #dimensions: Readonly<Record<string, DimensionValue>> | undefined;
  readonly #pointsPerEvent: number;
  #waiting: Waiting | undefined;
  #shutdown = false;

  /**
   * Creates the exporter and, for native sinks, registers with the OS.
   *
   * @throws {RangeError | TypeError} for invalid options or an invalid sink object
   * @throws {NativeSinkError | FfiError} only with `onUnavailable: "throw"`, when the facility
   *   cannot be set up (the message says what is missing)
   */
  constructor(options: NativeMetricsExporterOptions = {}) {
    this.#log = new RateLimitedLog(validDelay(options.diagIntervalMs ?? 60_000, "diagIntervalMs"));
    this.#temporality = temporalitySelector(options.temporalityPreference ?? "delta");
    this.#aggregation = options.aggregationPreference;
    this.#retry = retryOptions(options.retry);
    const onUnavailable = options.onUnavailable ?? "warn";
    if (onUnavailable !== "warn" && onUnavailable !== "throw" && onUnavailable !== "silent") {
      throw new RangeError(
        `onUnavailable must be "warn", "throw" or "silent", got ${onUnavailable}`,
      );
    }
    this.#quiet = onUnavailable === "silent";
    this.#dimensions = options.prepopulatedDimensions === undefined
      ? undefined
      : validateDimensions(options.prepopulatedDimensions);
    const perEvent = options.pointsPerEvent ?? 1;
    if (perEvent !== "max" && !(Number.isInteger(perEvent) && perEvent >= 1)) {
      throw new RangeError(`pointsPerEvent must be an integer >= 1 or "max", got ${perEvent}`);
    }
    this.#pointsPerEvent = perEvent === "max" ? Infinity : perEvent;
    const account = resolveAccount(options);
    this.#account = account.account === undefined && account.namespace === undefined
      ? undefined
      : account;
    const sink = options.sink ?? "auto";
    if (typeof sink === "object" && sink !== null) {
      this.#adopt(sink);
      return;
    }
    if (typeof sink === "function") this.#factory = sink;
    else if (typeof sink === "string") {
      if (sink !== "auto" && sink !== "user_events" && sink !== "etw") {
        throw new RangeError(`unknown sink: ${sink} (use "auto", "user_events" or "etw")`);
      }
      const choice = sink;
      this.#factory = () => createSink(choice, options);
    } else throw new TypeError(`sink must be a name, a function or a NativeSink, got ${sink}`);
    try {
      this.#adopt(this.#factory());
    } catch (error) {
      // Invalid options (RangeError, TypeError) are programming errors: they fail fast.
      if (onUnavailable === "throw" || error instanceof TypeError || error instanceof RangeError) {
        throw error;
      }
      this.#becomeUnavailable(error);
    }
  }

  /**
   * Whether the facility is here, and why not, without registering anything (see
   * {@linkcode probeSink}).
   *
   * @example
   * ```ts
   * import { NativeMetricsExporter } from "./exporter.ts";
   * const probe = NativeMetricsExporter.probe();
   * console.log(probe.available ? `using ${probe.sink}` : `${probe.reason}: ${probe.fix}`);
   * ```
   */
  static probe(choice: SinkChoice = "auto", options: SinkOptions = {}): ProbeResult {
    return probeSink(choice, options);
  }

  /** The sink events are written to; `undefined` while the facility is unavailable. */
  get sink(): NativeSink | undefined {
    return this.#sink;
  }

  /** Where the exporter stands: ready, unavailable (with the reason and the fix), or shut down. */
  get status(): ExporterStatus {
    if (this.#shutdown) return { state: "shutdown" };
    const w = this.#waiting;
    if (w) {
      const { reason, message, fix, retryable, attempts, nextRetryAt } = w;
      return {
        state: "unavailable",
        reason,
        message,
        fix,
        retryable,
        attempts,
        ...(nextRetryAt === undefined ? {} : { nextRetryAt }),
      };
    }
    return { state: "ready", sink: this.#sink!.kind };
  }

  /** A snapshot of the counters. */
  get stats(): ExporterStats {
    const s = copyStats(this.#stats);
    const encoder = this.#encoder;
    if (encoder) {
      s.attributeValuesDropped = { ...encoder.drops };
      s.valuesConverted = { ...encoder.conversions };
    }
    return s;
  }

  /** Whether a listener is attached now. Never throws. */
  isEnabled(): boolean {
    if (this.#shutdown) return false;
    if (!this.#sink && !this.#retryIfDue()) return false;
    return this.#sinkEnabled(this.#sink!) === true;
  }

  /** The temporality of each instrument (see `temporalityPreference`). */
  selectAggregationTemporality(instrumentType: InstrumentType): AggregationTemporality {
    return this.#temporality(instrumentType);
  }

  /** The aggregation of each instrument (see `aggregationPreference`). */
  selectAggregation(instrumentType: InstrumentType): AggregationOption {
    return this.#aggregation?.(instrumentType) ?? { type: AggregationType.DEFAULT };
  }

  /**
   * Writes every data point of `metrics` as one event each. Never throws; calls
   * `resultCallback` (when given) exactly once, synchronously.
   */
  export(metrics: ResourceMetrics, resultCallback?: (result: ExportResult) => void): void {
    let result: ExportResult;
    const stats = this.#stats;
    const before = stats.pointsWritten + stats.pointsSkippedNoListener + droppedTotal(stats);
    try {
      result = this.#export(metrics);
    } catch (error) {
      // Only data shapes the SDK never produces get here: account for the points not handled.
      const e = error instanceof Error ? error : new Error(String(error));
      const handled = stats.pointsWritten + stats.pointsSkippedNoListener + droppedTotal(stats) -
        before;
      stats.pointsDropped.encodeError += Math.max(0, safeCount(metrics) - handled);
      this.#log.log("error", "encode", () => `export failed: ${e.message}`);
      result = { code: FAILED_CODE, error: e };
    }
    if (typeof resultCallback === "function") resultCallback(result);
  }

  #export(metrics: ResourceMetrics): ExportResult {
    const stats = this.#stats;
    stats.exports++;
    if (this.#shutdown) {
      const n = safeCount(metrics);
      stats.pointsDropped.afterShutdown += n;
      this.#log.log("warn", "after-shutdown", () => `export after shutdown: ${n} point(s) dropped`);
      return { code: FAILED_CODE, error: new Error("exporter is shut down") };
    }
    const sink = this.#sink ?? (this.#retryIfDue() ? this.#sink : undefined);
    if (!sink) {
      // A deployment state, reported once and shown in `status`: not a failure of this export.
      stats.pointsDropped.unavailable += safeCount(metrics);
      return SUCCESS;
    }
    const enabled = this.#sinkEnabled(sink);
    if (enabled !== true) {
      const n = safeCount(metrics);
      if (enabled === false) {
        // Nobody listens: skip the whole export without encoding (or allocating) anything.
        stats.pointsSkippedNoListener += n;
        this.#log.log("debug", "no-listener", this.#noListenerMessage);
        return SUCCESS;
      }
      stats.pointsDropped.sinkError += n;
      return failed(`${n} data point(s) dropped: the sink's isEnabled() failed`);
    }
    const encoder = this.#encoder!;
    encoder.beginExport();
    const resource = this.#account ? this.#withAccount(metrics.resource) : metrics.resource;
    const d = stats.pointsDropped;
    const dropsBefore = d.oversize + d.writeError + d.encodeError + d.unknownType + d.sinkError;
    const scopes = metrics.scopeMetrics;
    for (let s = 0; s < scopes.length; s++) {
      const scopeMetrics = scopes[s]!;
      const list = scopeMetrics.metrics;
      for (let m = 0; m < list.length; m++) {
        const metric = list[m]!;
        const points = metric.dataPoints as readonly unknown[];
        if (points.length === 0) continue;
        if (!KNOWN_TYPES.has(metric.dataPointType)) {
          this.#unknownType(metric.descriptor?.name, metric.dataPointType, points.length);
          continue;
        }
        const env = this.#envelopes.envelope(
          resource,
          scopeMetrics.scope,
          metric,
          encoder.drops,
        );
        if (this.#pointsPerEvent === 1) this.#writePoints(sink, encoder, env, points);
        else this.#writePacked(sink, encoder, env, points);
      }
    }
    const dropped = d.oversize + d.writeError + d.encodeError + d.unknownType + d.sinkError -
      dropsBefore;
    if (dropped > 0) {
      return failed(`${dropped} data point(s) dropped (see exporter.stats.pointsDropped)`);
    }
    return SUCCESS;
  }

  /**
   * The hot loop: every point of one metric, encoded and written as one event each. Kept
   * apart from the export's bookkeeping, and its rare outcomes in methods of their own, so it
   * stays small for the JIT: it runs once per metric, so it gets optimized as a whole rather
   * than only by on-stack replacement inside one long export.
   */
  #writePoints(
    sink: NativeSink,
    encoder: PointEncoder,
    env: MetricEnvelope,
    points: readonly unknown[],
  ): void {
    const writer = encoder.writer;
    const limit = sink.maxPayloadSize;
    const stats = this.#stats;
    for (let i = 0; i < points.length; i++) {
      const enabled = this.#sinkEnabled(sink);
      if (enabled !== true) return this.#notListening(enabled, points.length - i);
      let start: number;
      try {
        start = encoder.encode(env, points[i] as Parameters<PointEncoder["encode"]>[1], i);
      } catch (error) {
        this.#encodeFailed(env, error);
        continue;
      }
      const end = writer.pos;
      const size = end - start;
      if (size > limit) {
        this.#oversize(env, size, limit);
        continue;
      }
      if (writer.spilled) {
        this.#stagingTooSmall(sink, env, size);
        continue;
      }
      let rc: unknown;
      try {
        rc = sink.write(start, end);
      } catch (error) {
        this.#sinkFailed(`write() threw: ${errorText(error)}`);
        continue;
      }
      if (rc === WRITE_OK) {
        stats.eventsWritten++;
        stats.pointsWritten++;
        stats.bytesWritten += size;
      } else this.#notWritten(sink, env, rc, 1);
    }
  }

  /**
   * `pointsPerEvent` > 1: the points of one metric packed into as few events as the limit
   * allows (see `PointEncoder.encodePacked`). An event's outcome is its points' outcome: a
   * failed write drops all of them (`writeErrors` counts the failed writes, `pointsDropped`
   * the points).
   */
  #writePacked(
    sink: NativeSink,
    encoder: PointEncoder,
    env: MetricEnvelope,
    points: readonly unknown[],
  ): void {
    const writer = encoder.writer;
    const limit = sink.maxPayloadSize;
    const stats = this.#stats;
    const packed = encoder.packed;
    let i = 0;
    while (i < points.length) {
      const enabled = this.#sinkEnabled(sink);
      if (enabled !== true) return this.#notListening(enabled, points.length - i);
      let start: number;
      try {
        start = encoder.encodePacked(env, points, i, this.#pointsPerEvent, limit);
      } catch (error) {
        this.#encodeFailed(env, error);
        i++;
        continue;
      }
      const count = packed.count;
      if (count === 0) {
        if (packed.spilled) this.#stagingTooSmall(sink, env, packed.oversize);
        else this.#oversize(env, packed.oversize, limit);
        i++;
        continue;
      }
      i += count;
      const end = writer.pos;
      const size = end - start;
      if (writer.spilled) {
        this.#stagingTooSmall(sink, env, size, count);
        continue;
      }
      let rc: unknown;
      try {
        rc = sink.write(start, end);
      } catch (error) {
        this.#sinkFailed(`write() threw: ${errorText(error)}`, undefined, count);
        continue;
      }
      if (rc === WRITE_OK) {
        stats.eventsWritten++;
        stats.pointsWritten += count;
        stats.bytesWritten += size;
      } else this.#notWritten(sink, env, rc, count);
    }
  }

  /** The `remaining` points of a metric when the sink stopped listening (or misbehaved). */
  #notListening(enabled: false | undefined, remaining: number): void {
    if (enabled === false) this.#stats.pointsSkippedNoListener += remaining;
    else this.#stats.pointsDropped.sinkError += remaining;
  }

  /** An event of `count` points that `write()` did not write: counted by what it returned. */
  #notWritten(sink: NativeSink, env: MetricEnvelope, rc: unknown, count: number): void {
    const stats = this.#stats;
    if (rc === WRITE_NOT_LISTENING) {
      stats.pointsSkippedNoListener += count;
    } else if (typeof rc === "number" && Number.isInteger(rc) && rc > 0) {
      this.#writeFailed(sink, env, rc, count);
    } else {
      this.#sinkFailed(`write() returned ${describeValue(rc)}`, rc, count);
    }
  }

  /** `true`, `false`, or `undefined` when the sink's `isEnabled()` misbehaved (logged). */
  #sinkEnabled(sink: NativeSink): boolean | undefined {
    let enabled: unknown;
    try {
      enabled = sink.isEnabled();
    } catch (error) {
      this.#log.log("error", "sink", () => `${sink.kind} isEnabled() threw: ${errorText(error)}`);
      return undefined;
    }
    if (enabled === true || enabled === false) return enabled;
    swallowRejection(enabled);
    this.#log.log(
      "error",
      "sink",
      () => `${sink.kind} isEnabled() returned ${describeValue(enabled)}, not a boolean`,
    );
    return undefined;
  }

  #encodeFailed(env: MetricEnvelope, error: unknown): void {
    this.#stats.pointsDropped.encodeError++;
    this.#log.log(
      "error",
      "encode",
      () => `cannot encode a point of ${env.name}: ${errorText(error)}`,
    );
  }

  #unknownType(name: unknown, type: unknown, n: number): void {
    this.#stats.pointsDropped.unknownType += n;
    this.#log.log(
      "error",
      "unknown-type",
      () => `dropped ${n} point(s) of metric "${name}": unknown dataPointType ${String(type)}`,
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
        `dropped a point of metric "${env.name}": ${size} bytes encoded, over the ` +
        `${this.#sink?.kind} limit of ${limit} (see maxPayloadSize)`,
    );
  }

  #stagingTooSmall(sink: NativeSink, env: MetricEnvelope, size: number, points = 1): void {
    this.#stats.pointsDropped.sinkError += points;
    this.#log.log(
      "error",
      "staging",
      () =>
        `dropped ${pointsText(points, "a point")} of metric "${env.name}": the ${sink.kind} ` +
        `sink's staging memory (${sink.staging.length} bytes, ${sink.headroom} of them ` +
        `headroom) is too small for this ${size}-byte ${points === 1 ? "point" : "event"}, ` +
        `within its maxPayloadSize of ${sink.maxPayloadSize}: give ` +
        `the sink at least headroom + 2 × maxPayloadSize + 1024 bytes of staging`,
    );
  }

  #writeFailed(sink: NativeSink, env: MetricEnvelope, rc: number, points = 1): void {
    const stats = this.#stats;
    stats.pointsDropped.writeError += points;
    let name: string;
    try {
      name = String(sink.describeError(rc));
    } catch {
      name = `error ${rc}`;
    }
    stats.writeErrors[name] = (stats.writeErrors[name] ?? 0) + 1;
    this.#log.log(
      "warn",
      `write-${rc}`,
      () =>
        `${sink.kind} write failed with ${name}: ${pointsText(points, "point")} of ` +
        `"${env.name}" dropped`,
    );
  }

  #sinkFailed(what: string, value?: unknown, points = 1): void {
    swallowRejection(value);
    this.#stats.pointsDropped.sinkError += points;
    this.#log.log(
      "error",
      "sink",
      () => `${this.#sink?.kind} sink ${what}: ${pointsText(points, "point")} dropped`,
    );
  }

  readonly #noListenerMessage = (): string => `no ${this.#sink?.kind} listener: points skipped`;

  /**
   * The resource with the Geneva account and namespace attributes: a new object per export, so
   * it always reflects the resource's current attributes (the envelope cache validates by
   * content, so this costs one comparison of the resource's bytes per metric).
   */
  #withAccount(resource: ResourceMetrics["resource"]): ResourceMetrics["resource"] {
    const attributes = withAccount(resource?.attributes ?? {}, this.#account!);
    const schemaUrl = resource?.schemaUrl;
    return (schemaUrl === undefined
      ? { attributes }
      : { attributes, schemaUrl }) as ResourceMetrics[
        "resource"
      ];
  }

  /** Takes `sink` into use (checked: a custom sink must have what the encoder needs). */
  #adopt(sink: NativeSink): void {
    const staging = sink.staging as unknown;
    if (
      !(staging instanceof Uint8Array) || !Number.isInteger(sink.headroom) || sink.headroom < 0 ||
      !Number.isInteger(sink.maxPayloadSize) || sink.maxPayloadSize < 1 ||
      typeof sink.isEnabled !== "function" || typeof sink.write !== "function"
    ) {
      throw new TypeError(
        "not a NativeSink: it needs staging (a Uint8Array), an integer headroom >= 0, an " +
          "integer maxPayloadSize >= 1, isEnabled(), write(), describeError() and shutdown()",
      );
    }
    this.#encoder = new PointEncoder(
      sink.staging,
      sink.headroom,
      this.#dimensions ? { dimensions: this.#dimensions } : {},
    );
    this.#sink = sink;
    this.#waiting = undefined;
  }

  #becomeUnavailable(error: unknown): void {
    const u = describeUnavailable(error);
    const retry = this.#retry;
    const canRetry = u.retryable && retry !== undefined && retry.maxAttempts > 0;
    this.#waiting = {
      ...u,
      attempts: 0,
      delayMs: retry?.initialDelayMs ?? 0,
      nextRetryAt: canRetry ? Date.now() + retry.initialDelayMs : undefined,
    };
    if (!this.#quiet) {
      reportOnce(
        `otel-native-metrics: native metrics unavailable (${u.reason}): ${u.message} ` +
          `Fix: ${u.fix}. ` +
          (canRetry
            ? "Retried at later exports; until then points are counted in "
            : "Not retried: points are counted in ") +
          "exporter.stats.pointsDropped.unavailable.",
      );
    }
  }

  /** Retries the facility when a retry is due; returns whether a sink is now in use. */
  #retryIfDue(): boolean {
    const w = this.#waiting;
    const retry = this.#retry;
    if (!w || !retry || w.nextRetryAt === undefined || Date.now() < w.nextRetryAt) return false;
    w.attempts++;
    try {
      this.#adopt(this.#factory!());
    } catch (error) {
      const u = describeUnavailable(error);
      const changed = u.reason !== w.reason;
      Object.assign(w, u);
      w.delayMs = Math.min(w.delayMs * 2, retry.maxDelayMs);
      w.nextRetryAt = u.retryable && w.attempts < retry.maxAttempts
        ? Date.now() + w.delayMs
        : undefined;
      if (changed && !this.#quiet) {
        this.#log.log("warn", "unavailable", () => `still unavailable (${u.reason}): ${u.message}`);
      }
      return false;
    }
    this.#log.log(
      "info",
      "available",
      () => `${this.#sink!.kind} is available after ${w.attempts} retr(ies): writing from now on`,
    );
    return true;
  }

  /** Nothing is buffered: every export is written synchronously. */
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  /** Unregisters from the OS. Later exports fail cleanly and count their points. Idempotent. */
  shutdown(): Promise<void> {
    if (!this.#shutdown) {
      this.#shutdown = true;
      this.#waiting = undefined;
      const sink = this.#sink;
      if (sink) {
        try {
          swallowRejection(sink.shutdown());
          if (sink.leaked === true || sink.shutdownError !== undefined) {
            const why = sink.shutdownError ? `: ${sink.shutdownError.message}` : "";
            this.#log.log(
              "warn",
              "shutdown",
              () =>
                `${sink.kind} could not be released cleanly${why}` +
                (sink.leaked ? " (its native memory is kept on purpose)" : ""),
            );
          }
        } catch (error) {
          this.#log.log("error", "shutdown", () => `sink shutdown failed: ${errorText(error)}`);
        }
      }
    }
    return Promise.resolve();
  }
}

const SUCCESS_CODE = 0 as ExportResult["code"];
const FAILED_CODE = 1 as ExportResult["code"];
/** The result of every successful export: one frozen object, nothing allocated per call. */
const SUCCESS: ExportResult = Object.freeze({ code: SUCCESS_CODE });
/** `DataPointType` values: HISTOGRAM 0, EXPONENTIAL_HISTOGRAM 1, GAUGE 2, SUM 3. */
const KNOWN_TYPES: ReadonlySet<unknown> = new Set([0, 1, 2, 3]);

/** `one` for a single point ("point", "a point"), else "N points" (a packed event's). */
function pointsText(points: number, one: string): string {
  return points === 1 ? one : `${points} points`;
}

function failed(message: string): ExportResult {
  return { code: FAILED_CODE, error: new Error(message) };
}

function droppedTotal(s: ExporterStats): number {
  const d = s.pointsDropped;
  return d.oversize + d.writeError + d.encodeError + d.afterShutdown + d.unavailable +
    d.unknownType + d.sinkError;
}

/** The number of points in `metrics`, tolerating malformed input (0 for what is not there). */
function safeCount(metrics: ResourceMetrics): number {
  let n = 0;
  try {
    for (const s of metrics.scopeMetrics) {
      for (const m of s.metrics) n += m.dataPoints.length;
    }
  } catch { /* malformed: count what was countable */ }
  return n;
}

/** Attaches a handler to a promise-like value so its rejection never goes unhandled. */
function swallowRejection(value: unknown): void {
  if (value !== null && typeof value === "object" && "then" in value) {
    try {
      (value as PromiseLike<unknown>).then(undefined, () => {});
    } catch { /* a broken thenable */ }
  }
}

function describeValue(value: unknown): string {
  if (value !== null && typeof value === "object" && "then" in value) return "a promise";
  return typeof value === "number" ? String(value) : typeof value;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function validDelay(value: number, name: string): number {
  if (typeof value !== "number" || !(value >= 0) || value === Infinity) {
    throw new RangeError(`${name} must be a finite number >= 0, got ${value}`);
  }
  return value;
}

function retryOptions(retry: RetryOptions | false | undefined): Required<RetryOptions> | undefined {
  if (retry === false) return undefined;
  const initialDelayMs = validDelay(retry?.initialDelayMs ?? 1000, "retry.initialDelayMs");
  const maxDelayMs = validDelay(retry?.maxDelayMs ?? 300_000, "retry.maxDelayMs");
  const maxAttempts = retry?.maxAttempts ?? Infinity;
  if (typeof maxAttempts !== "number" || !(maxAttempts >= 0)) {
    throw new RangeError(`retry.maxAttempts must be a number >= 0, got ${maxAttempts}`);
  }
  return { initialDelayMs, maxDelayMs: Math.max(maxDelayMs, initialDelayMs), maxAttempts };
}

const DELTA_FOR_ALL = () => AggregationTemporality.DELTA;
const CUMULATIVE_FOR_ALL = () => AggregationTemporality.CUMULATIVE;
const LOW_MEMORY = (t: InstrumentType) =>
  t === InstrumentType.COUNTER || t === InstrumentType.HISTOGRAM
    ? AggregationTemporality.DELTA
    : AggregationTemporality.CUMULATIVE;

function temporalitySelector(
  preference: TemporalityPreference,
): (t: InstrumentType) => AggregationTemporality {
  if (typeof preference === "function") return preference;
  // AggregationTemporalityPreference (DELTA 0, CUMULATIVE 1, LOWMEMORY 2) and
  // AggregationTemporality (DELTA 0, CUMULATIVE 1) agree on their numbers.
  switch (typeof preference === "string" ? preference.trim().toLowerCase() : preference) {
    case 0:
    case "delta":
      return DELTA_FOR_ALL;
    case 1:
    case "cumulative":
      return CUMULATIVE_FOR_ALL;
    case 2:
    case "lowmemory":
      return LOW_MEMORY;
    default:
      throw new RangeError(
        `unknown temporalityPreference: ${String(preference)} (use "delta", "cumulative", ` +
          `"lowmemory", an AggregationTemporalityPreference or a function)`,
      );
  }
}

export type { UnavailableReason };
