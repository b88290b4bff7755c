/// <reference types="node" />
/**
 * What the commands share: exit statuses, stderr, decoding a payload into filtered points.
 *
 * @module
 */
import process from "node:process";
import { decodeMetricsPayload, type FlatPoint, flattenRequest } from "../decode.ts";
import {
  listOption,
  type OptionSpec,
  pairsOption,
  type ParsedArgs,
  stringOption,
  UsageError,
} from "./args.ts";
import { eventDefinition } from "../sinks/user_events/abi.ts";
import { LineWriter, pointFilter, PointPrinter } from "./output.ts";

/**
 * Exit statuses (README, "See your metrics"):
 * 0 success · 1 failure (environment, I/O, permission; `status`: a problem was found) ·
 * 2 usage error · 3 some input could not be decoded (the rest was printed) ·
 * 4 `forward`: points were dropped (queue overflow, rejected, unsent at exit).
 */
export const EXIT = { ok: 0, failure: 1, usage: 2, undecodable: 3, dropped: 4 } as const;

/** stdout and stderr as synchronous line writers. */
export const stdout: LineWriter = new LineWriter(1);
/** stderr. */
export const stderr: LineWriter = new LineWriter(2);

/** Writes a line to stderr at once. */
export function warn(text: string): void {
  stderr.line(text);
  stderr.flush();
}

/** The options `listen` and `decode` share (output and filters). */
export const OUTPUT_OPTIONS: OptionSpec[] = [
  { name: "pretty", help: "an aligned table instead of JSON lines" },
  { name: "metric", value: "GLOB", repeat: true, help: "only metrics whose name matches (* ?)" },
  { name: "attr", value: "KEY=VALUE", repeat: true, help: "only points with this attribute" },
  { name: "event", value: "NAME", help: "the user_events event", default: "otlp_metrics" },
];

/** Decodes payloads and prints their points through the filters. */
export class PointSink {
  readonly printer: PointPrinter;
  readonly #keep: (p: FlatPoint) => boolean;
  /** Payloads that were not a valid ExportMetricsServiceRequest. */
  undecodable = 0;
  /** Points decoded (before filtering). */
  decoded = 0;

  constructor(args: ParsedArgs) {
    this.printer = new PointPrinter(stdout, args.options.has("pretty"));
    this.#keep = pointFilter(listOption(args, "metric"), pairsOption(args, "attr"));
  }

  /** Decodes one payload; returns the points printed, or an error message. */
  payload(bytes: Uint8Array, limit = Infinity): number | string {
    let points: FlatPoint[];
    try {
      points = flattenRequest(decodeMetricsPayload(bytes));
    } catch (error) {
      this.undecodable++;
      return `not an OTLP ExportMetricsServiceRequest (${bytes.length} bytes): ${
        (error as Error).message
      }`;
    }
    let printed = 0;
    for (const p of points) {
      this.decoded++;
      if (printed >= limit) break;
      if (!this.#keep(p)) continue;
      this.printer.print(p);
      printed++;
    }
    return printed;
  }
}

/** Program arguments after the script, in Deno and Bun alike. */
export function programArgs(): string[] {
  return process.argv.slice(2);
}

/** `--event NAME` (default `otlp_metrics`), validated as the exporter validates `eventName`. */
export function eventOption(args: ParsedArgs): string {
  const name = stringOption(args, "event") ?? "otlp_metrics";
  try {
    eventDefinition(name);
  } catch (error) {
    throw new UsageError(`--event: ${(error as Error).message.replace(/^eventName/, "the name")}`);
  }
  return name;
}
