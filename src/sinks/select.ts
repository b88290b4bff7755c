/**
 * Choosing a sink by name: `"auto"` picks the operating system's facility.
 *
 * @module
 */
import { platform } from "../../ffi/runtime.ts";
import { UnsupportedPlatformError } from "../errors.ts";
import type { NativeSink } from "./sink.ts";
import { EtwSink, type EtwSinkOptions } from "./etw/sink.ts";
import { UserEventsSink, type UserEventsSinkOptions } from "./user_events/sink.ts";

/** A sink by name. */
export type SinkChoice = "auto" | "user_events" | "etw";

/** Options for sinks created by name. */
export interface SinkOptions {
  /** Options of the user_events sink. */
  userEvents?: UserEventsSinkOptions;
  /** Options of the ETW sink. */
  etw?: EtwSinkOptions;
}

/**
 * Creates the sink `choice` names. `"auto"`: user_events on Linux, ETW on Windows; others get an
 * {@linkcode UnsupportedPlatformError}.
 */
export function createSink(choice: SinkChoice, options: SinkOptions = {}): NativeSink {
  const resolved = choice === "auto" ? autoChoice() : choice;
  switch (resolved) {
    case "user_events":
      return new UserEventsSink(options.userEvents);
    case "etw":
      return new EtwSink(options.etw);
    default:
      throw new RangeError(`unknown sink: ${String(choice)}`);
  }
}

function autoChoice(): SinkChoice {
  if (platform === "linux") return "user_events";
  if (platform === "win32") return "etw";
  throw new UnsupportedPlatformError(
    `No native tracing sink for "${platform}": user_events needs Linux, ETW Windows. ` +
      `Use a MemorySink or your own NativeSink here.`,
  );
}
