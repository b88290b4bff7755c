/// <reference types="node" />
/**
 * `otel-native-metrics decode`: payloads from files or stdin, printed as `listen` prints them.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { formatHelp, type OptionSpec, parseArgs, stringOption, UsageError } from "./args.ts";
import { eventOption, EXIT, OUTPUT_OPTIONS, PointSink, stdout, warn } from "./common.ts";
import { INPUT_FORMATS, type InputFormat, readPayloads } from "./inputs.ts";

const OPTIONS: OptionSpec[] = [
  {
    name: "format",
    value: "FORMAT",
    help: `input format: ${INPUT_FORMATS.join(", ")}`,
    default: "detected",
  },
  { name: "one", help: "hex/base64: the whole input is one payload, not one per line" },
  ...OUTPUT_OPTIONS,
  { name: "help", help: "this help" },
];

/** `decode --help`. */
export const DECODE_HELP: string = formatHelp(
  "otel-native-metrics decode [options] [FILE...]   (no FILE or '-': stdin)",
  `Decodes otlp_metrics payloads and prints one JSON object per data point per line (the same
output as 'listen'). Inputs, detected or given with --format:
  hex         one payload per line ("0a 12 ...", "0x0a12...", "0A-12-..."; what ETW tools print)
  base64      one payload per line
  binary      the whole file is one payload (an ExportMetricsServiceRequest)
  trace       the kernel's text: /sys/kernel/tracing/trace or trace_pipe ("... buffer=0a,12,...")
  perf-json   perf-decode's JSON ({"n":"user_events:otlp_metrics",...,"buffer":[10,18,...]})
  perf-data   a perf.data file from 'perf record -e user_events:otlp_metrics'
Exit status: 0 all decoded · 1 a file cannot be read · 2 usage · 3 some input undecodable.`,
  OPTIONS,
);

function readInput(path: string): Uint8Array {
  return path === "-" ? readFileSync(0) : readFileSync(path);
}

/** Runs `decode`; returns the exit status. */
export function decodeCommand(argv: string[]): number {
  const args = parseArgs(argv, OPTIONS);
  if (args.options.has("help")) {
    stdout.line(DECODE_HELP);
    stdout.flush();
    return EXIT.ok;
  }
  const format = stringOption(args, "format");
  if (format !== undefined && !(INPUT_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`--format must be one of ${INPUT_FORMATS.join(", ")}, not "${format}"`);
  }
  const event = eventOption(args);
  const files = args.positionals.length > 0 ? args.positionals : ["-"];
  const sink = new PointSink(args);
  let status: number = EXIT.ok;
  for (const file of files) {
    const label = file === "-" ? "stdin" : file;
    let bytes: Uint8Array;
    try {
      bytes = readInput(file);
    } catch (error) {
      warn(`decode: cannot read ${label}: ${(error as Error).message}`);
      status = EXIT.failure;
      continue;
    }
    const input = readPayloads(bytes, format as InputFormat | undefined, {
      event,
      single: args.options.has("one"),
    });
    for (const note of input.notes) warn(`decode: ${label}: ${note}`);
    for (const error of input.errors) warn(`decode: ${label} (${input.format}): ${error}`);
    if (input.errors.length > 0 && status === EXIT.ok) status = EXIT.undecodable;
    for (const { where, bytes: payload } of input.payloads) {
      const result = sink.payload(payload);
      if (typeof result === "string") {
        warn(`decode: ${label} (${input.format}) ${where}: ${result}`);
        if (status === EXIT.ok) status = EXIT.undecodable;
      }
    }
    stdout.flush();
  }
  stdout.flush();
  return status;
}
