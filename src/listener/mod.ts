/**
 * The built-in user_events listener (`./listener` entry point): a private tracefs instance whose
 * per-CPU ring buffers are read and parsed into `otlp_metrics` payloads. Linux, root only.
 *
 * @example
 * ```ts ignore
 * import { TracefsListener } from "@otel-native/metrics/listener";
 * const listener = TracefsListener.open(); // the event must exist: start an exporter first
 * for (const event of listener.poll()) console.log(event.payload.length);
 * listener.close();
 * ```
 *
 * @module
 */
export { TracefsListener, type TracefsListenerOptions } from "./listener.ts";
export { type CapturedEvent, parseRingBufferPage, ringBufferPageLost } from "./ring_buffer.ts";
