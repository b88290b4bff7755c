/**
 * The interface between the exporter and a native tracing facility.
 *
 * @module
 */

/** {@linkcode NativeSink.write} result: the event was handed to the facility. */
export const WRITE_OK: number = 0;
/** {@linkcode NativeSink.write} result: nobody listens (any more); the point is skipped, not lost. */
export const WRITE_NOT_LISTENING: number = -1;

/**
 * A destination for per-point OTLP events: Linux user_events, Windows ETW, or memory.
 *
 * The exporter encodes each point straight into {@linkcode staging}, leaving
 * {@linkcode headroom} bytes free in front of the payload for the sink's own event header,
 * then calls {@linkcode write}. Real sinks keep `staging` in native memory so a write needs no
 * copy.
 *
 * Contract: `staging` belongs to one exporter, and `write(start, end)` may write only into the
 * `headroom` bytes in front of `start`, never elsewhere in `staging` — the encoder leaves the
 * constant envelope bytes in place from one point to the next.
 */
export interface NativeSink {
  /** What the sink writes to: `"user_events"`, `"etw"`, `"memory"`, ... */
  readonly kind: string;
  /** Largest payload (encoded request) the sink accepts; larger points are dropped and counted. */
  readonly maxPayloadSize: number;
  /** Bytes the sink needs before the payload in `staging`. */
  readonly headroom: number;
  /** Memory the encoder writes events into. */
  readonly staging: Uint8Array;
  /** Whether anyone listens now. Cheap: called before encoding each point. */
  isEnabled(): boolean;
  /**
   * Writes the payload `staging[start, end)` as one event. Returns {@linkcode WRITE_OK},
   * {@linkcode WRITE_NOT_LISTENING}, or a positive error code (errno or Win32 error) that
   * {@linkcode describeError} names. Never throws.
   */
  write(start: number, end: number): number;
  /** A short name for an error code of {@linkcode write}, e.g. `"ENOSPC (28)"`. */
  describeError(code: number): string;
  /** Releases the facility (unregisters). Later writes return an error. Idempotent; never throws. */
  shutdown(): void;
  /**
   * Set by {@linkcode shutdown} when the native memory had to stay allocated because the
   * facility could not be told to let go of it (optional; the built-in sinks set it).
   */
  readonly leaked?: boolean;
  /** Why {@linkcode shutdown} could not release the facility cleanly (optional). */
  readonly shutdownError?: Error;
}
