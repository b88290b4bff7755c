/**
 * Counters of everything the exporter did with each data point, and rate-limited messages
 * through `@opentelemetry/api`'s `diag`.
 *
 * @module
 */
import { diag } from "@opentelemetry/api";

/** Why a data point was dropped. */
export interface DropCounts {
  /** The encoded point exceeded the sink's payload limit. */
  oversize: number;
  /** The sink's write failed (see `writeErrors`). */
  writeError: number;
  /** The point could not be encoded (unexpected data shape). */
  encodeError: number;
  /** `export()` was called after `shutdown()`. */
  afterShutdown: number;
  /** The facility was unavailable (see `exporter.status`): no sink to write to. */
  unavailable: number;
  /** A point of a `dataPointType` this exporter does not know (hand-built data). */
  unknownType: number;
  /** The sink misbehaved: threw, returned a promise or a non-number, or its staging memory was too small. */
  sinkError: number;
}

/**
 * A snapshot of the exporter's counters. Every data point handed to it is in exactly one of
 * `pointsWritten`, `pointsSkippedNoListener` or one of `pointsDropped`.
 */
export interface ExporterStats {
  /** `export()` calls. */
  exports: number;
  /** Events written to the sink (one per data point unless `pointsPerEvent` packs several). */
  eventsWritten: number;
  /** Data points in the events written: `eventsWritten` unless `pointsPerEvent` packs several. */
  pointsWritten: number;
  /** Payload bytes written. */
  bytesWritten: number;
  /** Points not encoded because nobody listened: skipped by design, not lost. */
  pointsSkippedNoListener: number;
  /** Points dropped, by reason. */
  pointsDropped: DropCounts;
  /** Failed writes by error name (`"ENOSPC (28)"`, `"ERROR_ARITHMETIC_OVERFLOW (534)"`, ...). */
  writeErrors: Record<string, number>;
  /**
   * Attribute values left out of events: `unsupported` (no OTLP type: functions, symbols,
   * bigints outside int64, objects other than plain objects, arrays and `Uint8Array`),
   * `tooDeep` (nesting past 16 levels), `cyclic` (a reference back to an enclosing value).
   */
  attributeValuesDropped: { unsupported: number; tooDeep: number; cyclic: number };
  /** INT-instrument values written as `as_double` because they are not within int64 (NaN, ±Infinity, |v| ≥ 2^63). */
  valuesConverted: { intAsDouble: number };
  /** The last oversize point: its metric, encoded size and the limit. */
  lastOversize?: { metric: string; size: number; limit: number };
}

/** Creates zeroed counters. */
export function emptyStats(): ExporterStats {
  return {
    exports: 0,
    eventsWritten: 0,
    pointsWritten: 0,
    bytesWritten: 0,
    pointsSkippedNoListener: 0,
    pointsDropped: {
      oversize: 0,
      writeError: 0,
      encodeError: 0,
      afterShutdown: 0,
      unavailable: 0,
      unknownType: 0,
      sinkError: 0,
    },
    writeErrors: {},
    attributeValuesDropped: { unsupported: 0, tooDeep: 0, cyclic: 0 },
    valuesConverted: { intAsDouble: 0 },
  };
}

/** Deep copy of counters (callers get snapshots, never live objects). */
export function copyStats(s: ExporterStats): ExporterStats {
  return {
    ...s,
    pointsDropped: { ...s.pointsDropped },
    writeErrors: { ...s.writeErrors },
    attributeValuesDropped: { ...s.attributeValuesDropped },
    valuesConverted: { ...s.valuesConverted },
    ...(s.lastOversize ? { lastOversize: { ...s.lastOversize } } : {}),
  };
}

type Level = "debug" | "info" | "warn" | "error";

/**
 * Logs each kind of message at most once per interval; occurrences in between are counted and
 * reported with the next message, so a long "nobody listens" period logs once, not per export.
 */
export class RateLimitedLog {
  readonly #intervalMs: number;
  readonly #last = new Map<string, { at: number; suppressed: number }>();
  readonly #now: () => number;

  /** @param intervalMs the minimum time between two messages of one kind */
  constructor(intervalMs: number, now: () => number = Date.now) {
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  /** Logs `message()` for `kind` unless one was logged within the interval. Returns whether it logged. */
  log(level: Level, kind: string, message: () => string): boolean {
    const now = this.#now();
    const entry = this.#last.get(kind);
    if (entry && now - entry.at < this.#intervalMs) {
      entry.suppressed++;
      return false;
    }
    const suppressed = entry?.suppressed ?? 0;
    this.#last.set(kind, { at: now, suppressed: 0 });
    const suffix = suppressed > 0 ? ` (${suppressed} similar message(s) suppressed)` : "";
    diag[level](`otel-native-metrics: ${message()}${suffix}`);
    return true;
  }
}

/**
 * Whether an application registered a global `diag` logger (`diag.setLogger`) with the
 * OpenTelemetry API 1.x: the API keeps it in a global registry under this symbol.
 */
function hasDiagLogger(): boolean {
  const registry = (globalThis as Record<symbol, { diag?: unknown } | undefined>)[
    Symbol.for("opentelemetry.js.api.1")
  ];
  return registry?.diag !== undefined;
}

/**
 * Reports a condition the application must hear about even without a diag logger (a missing
 * facility): through `diag.warn`, and through `console.warn` when no diag logger is registered,
 * since `diag` drops every message then.
 */
export function reportOnce(message: string): void {
  diag.warn(message);
  if (!hasDiagLogger()) console.warn(message);
}
