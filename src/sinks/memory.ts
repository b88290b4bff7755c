/**
 * A sink that keeps events in memory: for tests, demos, and checking what would be written.
 *
 * @module
 */
import { type NativeSink, WRITE_OK } from "./sink.ts";

/** Options of {@linkcode MemorySink}. */
export interface MemorySinkOptions {
  /** Largest payload accepted (default 4048, the user_events default). */
  maxPayloadSize?: number;
  /** Whether the sink reports a listener (default true). */
  enabled?: boolean;
  /** Keep at most this many events, dropping the oldest (default: all). */
  capacity?: number;
}

/**
 * Collects each event's payload (one encoded `ExportMetricsServiceRequest`).
 *
 * @example
 * ```ts
 * import { MemorySink, NativeMetricsExporter } from "../../mod.ts";
 * const sink = new MemorySink();
 * const exporter = new NativeMetricsExporter({ sink });
 * // ... after an export: sink.events holds one Uint8Array per data point
 * ```
 */
export class MemorySink implements NativeSink {
  readonly kind = "memory";
  readonly maxPayloadSize: number;
  readonly headroom = 0;
  readonly staging: Uint8Array;
  /** The payloads written so far, oldest first. */
  readonly events: Uint8Array[] = [];
  /** Whether the sink reports a listener; tests flip it. */
  enabled: boolean;
  readonly #capacity: number;
  #shutdown = false;

  /** Creates an empty sink. */
  constructor(options: MemorySinkOptions = {}) {
    this.maxPayloadSize = options.maxPayloadSize ?? 4048;
    this.enabled = options.enabled ?? true;
    this.#capacity = options.capacity ?? Infinity;
    this.staging = new Uint8Array(new ArrayBuffer(2 * this.maxPayloadSize + 1024));
  }

  isEnabled(): boolean {
    return this.enabled && !this.#shutdown;
  }

  write(start: number, end: number): number {
    if (this.#shutdown) return 9;
    this.events.push(this.staging.slice(start, end));
    if (this.events.length > this.#capacity) this.events.shift();
    return WRITE_OK;
  }

  describeError(code: number): string {
    return code === 9 ? "sink shut down" : `error ${code}`;
  }

  /** Removes and returns every event collected so far. */
  take(): Uint8Array[] {
    return this.events.splice(0, this.events.length);
  }

  shutdown(): void {
    this.#shutdown = true;
  }
}
