/**
 * OpenTelemetry metrics exported into the operating system's tracing facility — Linux
 * user_events (and Windows ETW) — from Bun and Deno through their built-in FFI, one OTLP
 * `ExportMetricsServiceRequest` per data point, wire-compatible with the Rust crates
 * `opentelemetry-user-events-metrics` / `opentelemetry-etw-metrics` and the .NET Geneva exporter.
 *
 * @example
 * ```ts ignore
 * import { MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
 * import { NativeMetricsExporter } from "@otel-native/metrics";
 *
 * const exporter = new NativeMetricsExporter();
 * const provider = new MeterProvider({
 *   readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 10_000 })],
 * });
 * provider.getMeter("checkout").createCounter("orders").add(1, { region: "eu" });
 * await provider.shutdown();
 * ```
 *
 * @module
 */
export {
  type ExporterStatus,
  type ExportResult,
  NativeMetricsExporter,
  type NativeMetricsExporterOptions,
  type RetryOptions,
  type TemporalityPreference,
} from "./src/exporter.ts";
export { type NativeSink, WRITE_NOT_LISTENING, WRITE_OK } from "./src/sinks/sink.ts";
export { MemorySink, type MemorySinkOptions } from "./src/sinks/memory.ts";
export { UserEventsSink, type UserEventsSinkOptions } from "./src/sinks/user_events/sink.ts";
export type { UserEventsSyscalls } from "./src/sinks/user_events/syscalls.ts";
export {
  FTRACE_PAYLOAD_LIMIT,
  OTLP_METRICS_DEFINITION,
  PERF_PAYLOAD_LIMIT,
} from "./src/sinks/user_events/abi.ts";
export { EtwSink, type EtwSinkOptions } from "./src/sinks/etw/sink.ts";
export { ETW_PAYLOAD_LIMIT, ETW_PROVIDER_GUID, ETW_PROVIDER_NAME } from "./src/sinks/etw/abi.ts";
export {
  createSink,
  type ProbeResult,
  type SinkChoice,
  type SinkOptions,
  type Unavailable,
  type UnavailableReason,
} from "./src/sinks/select.ts";
export type { DropCounts, ExporterStats } from "./src/diagnostics.ts";
export type { DimensionValue } from "./src/geneva.ts";
export {
  errnoName,
  EtwError,
  EventDefinitionConflictError,
  NativeSinkError,
  RegistrationError,
  TracefsNotFoundError,
  UnsupportedPlatformError,
  UserEventsPermissionError,
  UserEventsUnavailableError,
} from "./src/errors.ts";
export {
  FfiError,
  FfiPermissionError,
  LibraryNotFoundError,
  SymbolNotFoundError,
  UnsupportedRuntimeError,
} from "./ffi/errors.ts";
export { runtime, type RuntimeName } from "./ffi/runtime.ts";
