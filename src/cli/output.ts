/// <reference types="node" />
/**
 * What `listen` and `decode` print: one JSON object per data point per line, or an aligned
 * table (`--pretty`), after the `--metric` / `--attr` filters.
 *
 * JSON fields, in this order (stable; documented in the README, "See your metrics"):
 * `metric`, `kind` (`sum` | `gauge` | `histogram` | `exponentialHistogram`), `unit`,
 * `description`, `temporality` (`delta` | `cumulative` | `unspecified`; not for gauges),
 * `monotonic` (sums only), `value`, `attributes`, `startTimeUnixNano`, `timeUnixNano`,
 * `resource` (attributes), `scope` (`name`, `version`, `attributes`).
 * 64-bit integers (int values, counts, bucket counts, timestamps) are decimal strings, as in
 * proto3 JSON, so no precision is lost; doubles are numbers, NaN and ±Infinity the strings
 * `"NaN"`, `"Infinity"`, `"-Infinity"`; bytes values base64.
 *
 * @module
 */
import { writeSync } from "node:fs";
import type { FlatPoint } from "../decode.ts";

const TEMPORALITY = ["unspecified", "delta", "cumulative"];

/** The JSON object printed for one point (keys in print order). */
export function pointToJson(p: FlatPoint): Record<string, unknown> {
  const out: Record<string, unknown> = {
    metric: p.metric.name,
    kind: p.metric.kind,
    unit: p.metric.unit,
    description: p.metric.description,
  };
  if (p.temporality !== undefined) out.temporality = TEMPORALITY[p.temporality] ?? p.temporality;
  if (p.monotonic !== undefined) out.monotonic = p.monotonic;
  out.value = p.value;
  out.attributes = p.attributes;
  out.startTimeUnixNano = p.startTimeUnixNano;
  out.timeUnixNano = p.timeUnixNano;
  out.resource = p.resource;
  out.scope = p.scope;
  return out;
}

function base64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/** JSON.stringify with the conventions above (a replacer, so keys like `__proto__` stay data). */
export function toJsonText(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key, v) {
    // The holder's own value: a Node Buffer (a Uint8Array) has toJSON, already applied to `v`.
    const raw = this[key];
    if (raw instanceof Uint8Array) return base64(raw);
    if (typeof v === "bigint") return v.toString();
    if (typeof v === "number" && !Number.isFinite(v)) return String(v);
    return v;
  });
}

/** A `--metric` glob (`*`, `?`) as a whole-name matcher. */
export function globMatcher(glob: string): (name: string) => boolean {
  const re = new RegExp(
    "^" + glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") +
      "$",
    "s",
  );
  return (name) => re.test(name);
}

/** Point filters: any `--metric` glob matches (none given: all) and every `--attr` equals. */
export function pointFilter(
  metricGlobs: readonly string[],
  attrs: readonly [string, string][],
): (p: FlatPoint) => boolean {
  const globs = metricGlobs.map(globMatcher);
  return (p) => {
    if (globs.length > 0 && !globs.some((g) => g(p.metric.name))) return false;
    for (const [k, v] of attrs) {
      if (!Object.hasOwn(p.attributes, k)) return false;
      const actual = p.attributes[k];
      if (actual === null || typeof actual === "object" || String(actual) !== v) return false;
    }
    return true;
  };
}

/** A number for the table: doubles to 6 significant digits (the JSON keeps every digit). */
function short(x: unknown): string {
  return typeof x === "number" && Number.isFinite(x) && !Number.isInteger(x)
    ? String(Number(x.toPrecision(6)))
    : String(x);
}

/** The value column of the table. */
function valueText(p: FlatPoint): string {
  const v = p.value as Record<string, unknown> | number | bigint | undefined;
  if (v === undefined || v === null) return "-";
  if (typeof v !== "object") return short(v);
  const parts = [`count=${v.count}`, `sum=${v.sum === undefined ? "-" : short(v.sum)}`];
  if (v.min !== undefined) parts.push(`min=${short(v.min)}`);
  if (v.max !== undefined) parts.push(`max=${short(v.max)}`);
  return parts.join(" ");
}

function attrsText(attrs: Record<string, unknown>): string {
  return Object.keys(attrs).map((k) => `${k}=${toJsonText(attrs[k])}`).join(" ");
}

/** Nanoseconds since the epoch as an ISO time with milliseconds. */
function isoTime(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  return Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? new Date(ms).toISOString() : String(ns);
}

/** Writes lines to a file descriptor synchronously (nothing lost at exit), tolerating EAGAIN. */
export class LineWriter {
  #pending = "";
  /** Set once the reader went away (EPIPE): the command should stop. */
  closed = false;
  constructor(readonly fd: number) {}
  line(text: string): void {
    this.#pending += text + "\n";
    if (this.#pending.length >= 65536) this.flush();
  }
  flush(): void {
    let bytes = new TextEncoder().encode(this.#pending);
    this.#pending = "";
    while (bytes.length > 0 && !this.closed) {
      try {
        const n = writeSync(this.fd, bytes);
        bytes = bytes.subarray(n);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === "EAGAIN") continue;
        if (code === "EPIPE") {
          this.closed = true;
          return;
        }
        throw error;
      }
    }
  }
}

/** Prints points as JSON lines or as the `--pretty` table. */
export class PointPrinter {
  // Starting widths that fit typical metric names and values; a longer cell widens its column
  // from then on (a stream cannot know the widest row in advance).
  #widths = [24, 36, 9, 40];
  #headerDone = false;
  /** Points printed. */
  printed = 0;
  constructor(readonly out: LineWriter, readonly pretty: boolean) {}

  print(p: FlatPoint): void {
    this.printed++;
    if (!this.pretty) return this.out.line(toJsonText(pointToJson(p)));
    const cells = [
      isoTime(p.timeUnixNano),
      p.metric.name,
      p.metric.kind === "exponentialHistogram" ? "exphisto" : p.metric.kind,
      valueText(p),
      attrsText(p.attributes),
    ];
    if (!this.#headerDone) {
      this.#headerDone = true;
      this.#row(["TIME", "METRIC", "KIND", "VALUE", "ATTRIBUTES"]);
    }
    this.#row(cells);
  }

  #row(cells: string[]): void {
    // Columns only grow, so rows stay aligned with the ones printed before.
    for (let i = 0; i < this.#widths.length; i++) {
      this.#widths[i] = Math.max(this.#widths[i]!, cells[i]!.length);
    }
    this.out.line(cells.map((c, i) => i < 4 ? c.padEnd(this.#widths[i]!) : c).join("  "));
  }
}
