/**
 * `otel-native-metrics listen`: the live events, decoded.
 *
 * @module
 */
import { formatHelp, numberOption, type OptionSpec, parseArgs, stringOption } from "./args.ts";
import { capture } from "./capture.ts";
import { eventOption, EXIT, OUTPUT_OPTIONS, PointSink, stdout, warn } from "./common.ts";

const OPTIONS: OptionSpec[] = [
  ...OUTPUT_OPTIONS,
  { name: "count", value: "N", help: "stop after N points (after the filters)" },
  { name: "duration", value: "S", help: "stop after S seconds" },
  { name: "tracefs", value: "DIR", help: "tracefs directory", default: "/sys/kernel/tracing" },
  { name: "buffer-size-kb", value: "KB", help: "per-CPU ring buffer size", default: "4096" },
  { name: "help", help: "this help" },
];

/** `listen --help`. */
export const LISTEN_HELP: string = formatHelp(
  "otel-native-metrics listen [options]",
  `Prints every otlp_metrics event as one JSON object per data point per line (or a table with
--pretty), read from the kernel's per-CPU ring buffers through a private tracefs instance.
Linux, root. Creates user_events:<event> through dynamic_events when it does not exist yet and
removes it again on exit (if no process still has it registered). Ring-buffer overruns are
reported on stderr with counts. Stops on --count, --duration, SIGINT or SIGTERM; a summary
line goes to stderr.
Exit status: 0 stopped normally · 1 cannot listen (the message says why and how to fix it) ·
2 usage · 3 some events were not OTLP (reported on stderr) or events were lost.`,
  OPTIONS,
);

/** Runs `listen`; returns the exit status. */
export async function listenCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, OPTIONS);
  if (args.options.has("help")) {
    stdout.line(LISTEN_HELP);
    stdout.flush();
    return EXIT.ok;
  }
  const count = numberOption(args, "count", { min: 1, integer: true }) ?? Infinity;
  const durationS = numberOption(args, "duration", { min: 0 });
  const bufferSizeKb = numberOption(args, "buffer-size-kb", { min: 4, integer: true });
  const sink = new PointSink(args);
  const summary = await capture({
    command: "listen",
    event: eventOption(args),
    tracefs: stringOption(args, "tracefs"),
    bufferSizeKb,
    durationS,
    onPayload(payload) {
      const result = sink.payload(payload, count - sink.printer.printed);
      if (typeof result === "string") warn(`listen: ${result}`);
      return sink.printer.printed < count && !stdout.closed;
    },
    afterPoll: () => stdout.flush(),
  });
  stdout.flush();
  const kernel = summary.kernel
    ? `, kernel counters: overrun ${summary.kernel.overrun}, dropped ${summary.kernel.dropped}`
    : "";
  warn(
    `listen: ${summary.events} events, ${sink.decoded} points decoded, ` +
      `${sink.printer.printed} printed, ${sink.undecodable} undecodable, ` +
      `${summary.lostEvents} lost in the ring buffer${kernel} (stopped: ${summary.reason})`,
  );
  const lost = summary.lostEvents > 0 || summary.lostPages > 0 ||
    (summary.kernel?.overrun ?? 0) > 0 || (summary.kernel?.dropped ?? 0) > 0;
  return sink.undecodable > 0 || lost ? EXIT.undecodable : EXIT.ok;
}
