/**
 * The `otel-native-metrics` command line: `status`, `listen`, `decode`, `forward`.
 *
 * @module
 */
import { UsageError } from "./args.ts";
import { EXIT, stderr, stdout, warn } from "./common.ts";
import { CaptureError } from "./capture.ts";
import { decodeCommand } from "./decode.ts";
import { forwardCommand } from "./forward.ts";
import { listenCommand } from "./listen.ts";
import { statusCommand } from "./status.ts";

/** The top-level help. */
export const MAIN_HELP = `Usage: otel-native-metrics <command> [options]

See, decode and forward the OpenTelemetry metrics that exporters write into Linux user_events
(and the payloads Windows ETW tools show).

Commands:
  status    what this machine and user can do, with the fix for each problem
  listen    print the live otlp_metrics events, one JSON object per data point (Linux, root)
  decode    decode payloads: hex, base64, binary, trace/trace_pipe text, perf-decode JSON, perf.data
  forward   send the live events to an OTLP/HTTP endpoint (an OpenTelemetry Collector)

'otel-native-metrics <command> --help' describes each command and its exit statuses.
Exit statuses: 0 success · 1 failure (the message says why) · 2 usage error ·
3 some input undecodable or events lost · 4 forward: points dropped.
`;

const COMMANDS: Record<string, (argv: string[]) => number | Promise<number>> = {
  status: statusCommand,
  listen: listenCommand,
  decode: decodeCommand,
  forward: forwardCommand,
};

/** Runs the command line; returns the exit status (never throws). */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    stdout.line(MAIN_HELP);
    stdout.flush();
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  const run = COMMANDS[command];
  if (!run) {
    warn(`otel-native-metrics: unknown command "${command}"\n\n${MAIN_HELP}`);
    return EXIT.usage;
  }
  try {
    return await run(rest);
  } catch (error) {
    stdout.flush();
    if (error instanceof UsageError) {
      warn(`otel-native-metrics ${command}: ${error.message} (see --help)`);
      return EXIT.usage;
    }
    if (error instanceof CaptureError) {
      warn(`otel-native-metrics ${command}: ${error.message}`);
      return EXIT.failure;
    }
    warn(`otel-native-metrics ${command}: ${(error as Error)?.stack ?? String(error)}`);
    return EXIT.failure;
  } finally {
    stdout.flush();
    stderr.flush();
  }
}
