/// <reference types="node" />
/**
 * `otel-native-metrics forward`: the live events (or a file's) sent to an OTLP/HTTP receiver.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import { type ForwarderStats, OtlpForwarder } from "../forward/forwarder.ts";
import {
  formatHelp,
  numberOption,
  type OptionSpec,
  pairsOption,
  parseArgs,
  stringOption,
  UsageError,
} from "./args.ts";
import { capture } from "./capture.ts";
import { onStopSignal } from "./signals.ts";
import { eventOption, EXIT, stdout, warn } from "./common.ts";
import { INPUT_FORMATS, type InputFormat, readPayloads } from "./inputs.ts";

const OPTIONS: OptionSpec[] = [
  { name: "endpoint", value: "URL", help: "OTLP/HTTP receiver; /v1/metrics is appended" },
  { name: "header", value: "KEY=VALUE", repeat: true, help: "request header (auth)" },
  { name: "gzip", help: "gzip request bodies" },
  { name: "timeout", value: "S", help: "per-request timeout", default: "10" },
  { name: "max-batch-points", value: "N", help: "most points per request", default: "1000" },
  { name: "max-delay", value: "MS", help: "longest a point waits for its batch", default: "1000" },
  {
    name: "queue",
    value: "N",
    help: "most points queued; overflow drops oldest",
    default: "100000",
  },
  {
    name: "stats-interval",
    value: "S",
    help: "stats line on stderr every S s (0: off)",
    default: "10",
  },
  { name: "shutdown-timeout", value: "S", help: "time for the final flush", default: "10" },
  { name: "event", value: "NAME", help: "the user_events event", default: "otlp_metrics" },
  { name: "tracefs", value: "DIR", help: "tracefs directory", default: "/sys/kernel/tracing" },
  { name: "buffer-size-kb", value: "KB", help: "per-CPU ring buffer size", default: "4096" },
  { name: "duration", value: "S", help: "stop capturing after S seconds" },
  { name: "input", value: "FILE", help: "forward a file's payloads instead (any decode format)" },
  { name: "format", value: "FORMAT", help: `--input format: ${INPUT_FORMATS.join(", ")}` },
  { name: "help", help: "this help" },
];

/** `forward --help`. */
export const FORWARD_HELP: string = formatHelp(
  "otel-native-metrics forward --endpoint URL [options]",
  `Captures otlp_metrics events as 'listen' does (Linux, root) and sends them as OTLP/HTTP
protobuf to URL/v1/metrics (an OpenTelemetry Collector, Prometheus' OTLP receiver, any OTLP
backend). Per-point events are merged into batched requests (one resource, scope and metric
entry each), bounded by --max-batch-points and --max-delay. Retries 429/502/503/504, timeouts
and connection errors with exponential backoff and jitter, honouring Retry-After; reads and
counts partial_success. The queue is bounded (--queue): overflow drops the oldest points,
counted. SIGINT/SIGTERM stop the capture, then a final flush (--shutdown-timeout). A stats
line goes to stderr periodically and on exit.
Exit status: 0 every point sent · 1 cannot listen or bad endpoint · 2 usage ·
4 points were dropped (see the stats line).`,
  OPTIONS,
);

/** The stats line. */
export function statsLine(s: ForwarderStats): string {
  const d = s.dropped;
  return `forward: received ${s.received}, sent ${s.sent} (${s.requests} requests), ` +
    `retried ${s.retries}, queued ${s.queued + s.inFlight}, dropped: queue-full ${d.queueFull}, ` +
    `rejected ${d.rejected}, retries-exhausted ${d.retriesExhausted}, shutdown ${d.shutdown}; ` +
    `partial-success rejected ${s.partialRejected}; undecodable ${s.undecodable}` +
    (s.lastError ? `; last error: ${s.lastError}` : "");
}

/** Runs `forward`; returns the exit status. */
export async function forwardCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, OPTIONS);
  if (args.options.has("help")) {
    stdout.line(FORWARD_HELP);
    stdout.flush();
    return EXIT.ok;
  }
  const endpoint = stringOption(args, "endpoint");
  if (endpoint === undefined) throw new UsageError("--endpoint URL is required");
  const format = stringOption(args, "format");
  if (format !== undefined && !(INPUT_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`--format must be one of ${INPUT_FORMATS.join(", ")}`);
  }
  let forwarder: OtlpForwarder;
  try {
    forwarder = new OtlpForwarder({
      endpoint,
      headers: Object.fromEntries(pairsOption(args, "header")),
      gzip: args.options.has("gzip"),
      timeoutMs: (numberOption(args, "timeout", { min: 0.001 }) ?? 10) * 1000,
      maxBatchPoints: numberOption(args, "max-batch-points", { min: 1, integer: true }),
      maxDelayMs: numberOption(args, "max-delay", { min: 0 }),
      maxQueuePoints: numberOption(args, "queue", { min: 1, integer: true }),
    });
  } catch (error) {
    throw new UsageError(`--endpoint ${endpoint}: ${(error as Error).message}`);
  }
  const statsEvery = numberOption(args, "stats-interval", { min: 0 }) ?? 10;
  const timer = statsEvery > 0
    ? setInterval(() => warn(statsLine(forwarder.stats)), statsEvery * 1000)
    : undefined;
  const event = eventOption(args);
  try {
    const input = stringOption(args, "input");
    if (input !== undefined) {
      const bytes = input === "-" ? readFileSync(0) : readFileSync(input);
      const result = readPayloads(bytes, format as InputFormat | undefined, { event });
      for (const e of [...result.notes, ...result.errors]) warn(`forward: ${input}: ${e}`);
      for (const p of result.payloads) forwarder.push(p.bytes);
    } else {
      await capture({
        command: "forward",
        event,
        tracefs: stringOption(args, "tracefs"),
        bufferSizeKb: numberOption(args, "buffer-size-kb", { min: 4, integer: true }),
        durationS: numberOption(args, "duration", { min: 0 }),
        onPayload: (payload) => {
          forwarder.push(payload);
        },
      });
    }
    // A second signal during the final flush: report and exit at once.
    const offSignal = onStopSignal(() => {
      warn(`${statsLine(forwarder.stats)} (second signal during the final flush: exiting)`);
      process.exit(EXIT.dropped);
    });
    await forwarder.shutdown({
      timeoutMs: (numberOption(args, "shutdown-timeout", { min: 0 }) ?? 10) * 1000,
    });
    offSignal();
  } finally {
    clearInterval(timer);
  }
  const s = forwarder.stats;
  warn(statsLine(s));
  const dropped = s.dropped.queueFull + s.dropped.rejected + s.dropped.retriesExhausted +
    s.dropped.shutdown;
  return dropped > 0 || s.undecodable > 0 ? EXIT.dropped : EXIT.ok;
}
