/**
 * Forwarding `otlp_metrics` events to an OTLP/HTTP receiver (an OpenTelemetry Collector,
 * Prometheus' OTLP receiver, any OTLP backend): the `./forward` entry point, and what the
 * `otel-native-metrics forward` command runs.
 *
 * @example
 * ```ts ignore
 * import { TracefsListener } from "@otel-native/metrics/listener";
 * import { OtlpForwarder } from "@otel-native/metrics/forward";
 * const listener = TracefsListener.open();
 * const forwarder = new OtlpForwarder({ endpoint: "http://127.0.0.1:4318", gzip: true });
 * const timer = setInterval(() => {
 *   for (const event of listener.poll()) forwarder.push(event.payload);
 * }, 100);
 * // on exit:
 * clearInterval(timer);
 * listener.close();
 * await forwarder.shutdown();
 * console.log(forwarder.stats);
 * ```
 *
 * @module
 */
export {
  type ForwardDrops,
  type ForwarderOptions,
  type ForwarderStats,
  metricsUrl,
  OtlpForwarder,
  parseRetryAfter,
} from "./forwarder.ts";
export { type Batch, type BatcherOptions, MetricsBatcher } from "./batcher.ts";
export type { ExportMetricsServiceRequest } from "../decode.ts";
