/**
 * A sink that keeps events in memory: for tests, demos, and checking what would be written.
 *
 * @module
 */
import { Errno } from "../../ffi/errno.ts";
import { type NativeSink, WRITE_OK } from "./sink.ts";

/** Largest payload a MemorySink accepts: the largest any real sink writes (ETW's). */
const MAX_PAYLOAD = 65360;
/** `write()` after `shutdown()`: EBADF, as a closed user_events file gives. */
const SHUT_DOWN = Errno.EBADF;

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

  /**
   * Creates an empty sink.
   *
   * @throws {RangeError} when `maxPayloadSize` is not an integer from 1 to 65360, or
   *   `capacity` not an integer ≥ 1 (or `Infinity`)
   * @throws {TypeError} when `enabled` is not a boolean
   */
  constructor(options: MemorySinkOptions = {}) {
    const limit = options.maxPayloadSize ?? 4048;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAYLOAD) {
      throw new RangeError(
        `maxPayloadSize must be an integer from 1 to ${MAX_PAYLOAD}, got ${String(limit)}`,
      );
    }
    const capacity = options.capacity ?? Infinity;
    if (capacity !== Infinity && (!Number.isInteger(capacity) || capacity < 1)) {
      throw new RangeError(`capacity must be an integer >= 1 or Infinity, got ${String(capacity)}`);
    }
    const enabled = options.enabled ?? true;
    if (typeof enabled !== "boolean") {
      throw new TypeError(`enabled must be a boolean, got ${typeof enabled}`);
    }
    this.maxPayloadSize = limit;
    this.enabled = enabled;
    this.#capacity = capacity;
    this.staging = new Uint8Array(new ArrayBuffer(2 * this.maxPayloadSize + 1024));
  }

  isEnabled(): boolean {
    return this.enabled && !this.#shutdown;
  }

  write(start: number, end: number): number {
    if (this.#shutdown) return SHUT_DOWN;
    this.events.push(this.staging.slice(start, end));
    if (this.events.length > this.#capacity) this.events.shift();
    return WRITE_OK;
  }

  describeError(code: number): string {
    return code === SHUT_DOWN ? "sink shut down" : `error ${code}`;
  }

  /** Removes and returns every event collected so far. */
  take(): Uint8Array[] {
    return this.events.splice(0, this.events.length);
  }

  shutdown(): void {
    this.#shutdown = true;
  }
}
