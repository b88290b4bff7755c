/**
 * Choosing a sink by name (`"auto"` picks the operating system's facility), and what it means
 * when the facility cannot be had: the reason, the fix, and whether trying again may help.
 *
 * @module
 */
import {
  ADVAPI32_PATH,
  ADVAPI32_SYMBOLS,
  ffi,
  FfiPermissionError,
  LibraryNotFoundError,
  platform,
  SymbolNotFoundError,
  UnsupportedRuntimeError,
} from "../../ffi/mod.ts";
import {
  EtwError,
  EventDefinitionConflictError,
  RegistrationError,
  TracefsNotFoundError,
  UnsupportedPlatformError,
  UserEventsPermissionError,
  UserEventsUnavailableError,
} from "../errors.ts";
import type { NativeSink } from "./sink.ts";
import { EtwSink, type EtwSinkOptions } from "./etw/sink.ts";
import { openUserEventsData } from "./user_events/discovery.ts";
import { UserEventsSink, type UserEventsSinkOptions } from "./user_events/sink.ts";
import { libcSyscalls } from "./user_events/syscalls.ts";

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
 *
 * @throws {RangeError} for an unknown name
 * @throws {NativeSinkError | FfiError} when the facility cannot be set up (see
 *   {@linkcode describeUnavailable})
 * @example
 * ```ts ignore
 * import { createSink } from "./select.ts";
 * const sink = createSink("auto"); // registers with user_events on Linux
 * sink.shutdown();
 * ```
 */
export function createSink(choice: SinkChoice, options: SinkOptions = {}): NativeSink {
  switch (resolveChoice(choice)) {
    case "user_events":
      return new UserEventsSink(options.userEvents);
    case "etw":
      return new EtwSink(options.etw);
  }
}

function resolveChoice(choice: SinkChoice): "user_events" | "etw" {
  switch (choice) {
    case "user_events":
    case "etw":
      return choice;
    case "auto":
      if (platform === "linux") return "user_events";
      if (platform === "win32") return "etw";
      throw new UnsupportedPlatformError(
        `No native tracing facility for "${platform}": user_events needs Linux, ETW Windows.`,
      );
    default:
      throw new RangeError(`unknown sink: ${String(choice)} (use "auto", "user_events" or "etw")`);
  }
}

/** Why a sink could not be set up. */
export type UnavailableReason =
  | "no-tracefs"
  | "no-user-events"
  | "permission"
  | "definition-conflict"
  | "registration-failed"
  | "ffi-permission"
  | "library-missing"
  | "no-ffi"
  | "unsupported-platform";

/** What a setup failure means for the user: the reason, the message, the fix, and whether to retry. */
export interface Unavailable {
  /** The reason, one word. */
  reason: UnavailableReason;
  /** The error's message (it names what is missing). */
  message: string;
  /** What to do about it. */
  fix: string;
  /** Whether the situation can change while the process runs (so retrying may help). */
  retryable: boolean;
}

/**
 * Classifies an error thrown while setting up a sink.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TracefsNotFoundError } from "../errors.ts";
 * import { describeUnavailable } from "./select.ts";
 * const u = describeUnavailable(new TracefsNotFoundError("tracefs is not mounted"));
 * assert.equal(u.reason, "no-tracefs");
 * assert.equal(u.retryable, true);
 * ```
 */
export function describeUnavailable(error: unknown): Unavailable {
  const message = error instanceof Error ? error.message : String(error);
  const make = (reason: UnavailableReason, fix: string, retryable: boolean): Unavailable => ({
    reason,
    message,
    fix,
    retryable,
  });
  if (error instanceof TracefsNotFoundError) {
    return make(
      "no-tracefs",
      "mount tracefs as root: mount -t tracefs nodev /sys/kernel/tracing (in a container, " +
        "bind-mount the host's /sys/kernel/tracing)",
      true,
    );
  }
  if (error instanceof UserEventsUnavailableError) {
    return make(
      "no-user-events",
      "run on Linux 6.4 or later built with CONFIG_USER_EVENTS=y",
      true,
    );
  }
  if (error instanceof UserEventsPermissionError) {
    return make(
      "permission",
      "run as root, or give the service's group write access to user_events_data and search " +
        "(x) access to the tracefs directory (see the README, Permissions)",
      true,
    );
  }
  if (error instanceof EventDefinitionConflictError) {
    return make(
      "definition-conflict",
      "see user_events_status: stop the process that registered the other definition of " +
        "otlp_metrics (or delete a persistent one with DIAG_IOCSDEL)",
      true,
    );
  }
  if (error instanceof FfiPermissionError) {
    return make("ffi-permission", "run Deno with --allow-ffi (or -A)", false);
  }
  if (error instanceof LibraryNotFoundError || error instanceof SymbolNotFoundError) {
    return make(
      "library-missing",
      "the system library could not be loaded (glibc's libc.so.6 on Linux, advapi32.dll on Windows)",
      false,
    );
  }
  if (error instanceof UnsupportedRuntimeError) {
    return make("no-ffi", "run on Bun or Deno (Node.js has no built-in FFI yet)", false);
  }
  if (error instanceof UnsupportedPlatformError) {
    return make(
      "unsupported-platform",
      "user_events needs Linux and ETW Windows; elsewhere use a MemorySink or your own NativeSink",
      false,
    );
  }
  if (error instanceof EtwError) {
    return make(
      "registration-failed",
      "the ETW provider could not be registered: see the Win32 error in the message",
      true,
    );
  }
  if (error instanceof RegistrationError) {
    return make(
      "registration-failed",
      "the kernel refused the registration: see the errno in the message",
      true,
    );
  }
  return make("registration-failed", "see the message", true);
}

/** The answer of {@linkcode probeSink}. */
export type ProbeResult =
  | { available: true; sink: "user_events" | "etw" }
  | ({ available: false } & Unavailable);

/**
 * Whether the facility `choice` names would work here, and why not, without registering
 * anything: for user_events, `user_events_data` is found and opened for writing, then closed;
 * for ETW, advapi32 is loaded with every function the sink calls. (A definition conflict shows
 * only when registering.)
 *
 * @example
 * ```ts
 * import { probeSink } from "./select.ts";
 * const result = probeSink("auto");
 * if (!result.available) console.log(`no native metrics here: ${result.reason}: ${result.fix}`);
 * ```
 */
export function probeSink(choice: SinkChoice = "auto", options: SinkOptions = {}): ProbeResult {
  try {
    const resolved = resolveChoice(choice);
    if (resolved === "user_events") {
      const sys = options.userEvents?.syscalls ?? libcSyscalls();
      const opened = openUserEventsData(options.userEvents?.tracefs, sys);
      sys.close(opened.fd);
    } else {
      ffi().open(options.etw?.library ?? ADVAPI32_PATH, ADVAPI32_SYMBOLS).close();
    }
    return { available: true, sink: resolved };
  } catch (error) {
    return { available: false, ...describeUnavailable(error) };
  }
}
