/// <reference types="node" />
/**
 * The capture loop `listen` and `forward` share: make sure the event exists (creating it
 * through `dynamic_events` when absent), read it through a private tracefs instance, hand each
 * payload on, report ring-buffer overruns on stderr, and undo everything on exit, SIGINT and
 * SIGTERM.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { TracefsListener } from "../listener/listener.ts";
import { createEvent, deleteEvent, dynamicEventLine, eventExists, findTracefs } from "./tracefs.ts";
import { warn } from "./common.ts";
import { onStopSignal } from "./signals.ts";

/** Options of {@linkcode capture}. */
export interface CaptureOptions {
  /** Command name for messages. */
  command: string;
  event: string;
  tracefs?: string;
  bufferSizeKb?: number;
  /** Poll interval when the buffers were empty (ms). */
  pollMs?: number;
  /** Stop after this many seconds. */
  durationS?: number;
  /** Called per payload; return `false` to stop. */
  onPayload(payload: Uint8Array): boolean | void;
  /** Called after each poll round (e.g. to flush output). */
  afterPoll?(): void | Promise<void>;
}

/** What a capture did. */
export interface CaptureSummary {
  events: number;
  lostEvents: number;
  lostPages: number;
  /** The kernel's counters at the end (`per_cpu/*\/stats`). */
  kernel?: { overrun: number; dropped: number };
  /** Why it stopped: `count`, `duration`, `SIGINT`, `SIGTERM`, `output closed`. */
  reason: string;
}

/** A fatal capture setup failure: message with the fix; exit status 1. */
export class CaptureError extends Error {
  override name = "CaptureError";
}

/** Runs the capture until `onPayload` returns false, the duration ends, or a signal. */
export async function capture(options: CaptureOptions): Promise<CaptureSummary> {
  const tracefs = options.tracefs ?? findTracefs();
  if (tracefs === undefined) {
    throw new CaptureError(
      "tracefs is not mounted: mount -t tracefs nodev /sys/kernel/tracing (as root)",
    );
  }
  const { event, command } = options;
  if (!existsSync(`${tracefs}/user_events_data`) && existsSync(`${tracefs}/trace`)) {
    throw new CaptureError(
      `${tracefs} has no user_events_data: this kernel has no user_events (it needs Linux 6.4 ` +
        `or later built with CONFIG_USER_EVENTS=y); 'otel-native-metrics status' says more`,
    );
  }
  let created = false;
  if (!eventExists(tracefs, event)) {
    try {
      createEvent(tracefs, event);
      created = true;
      warn(`${command}: created user_events:${event} (${dynamicEventLine(event)})`);
    } catch (error) {
      const code = (error as { code?: string }).code;
      throw new CaptureError(
        `user_events:${event} does not exist and cannot be created through ` +
          `${tracefs}/dynamic_events (${code ?? (error as Error).message}): ` +
          (code === "ENOENT"
            ? "this kernel has no dynamic_events/user_events (Linux 6.4+ with CONFIG_USER_EVENTS)"
            : code === "EACCES" || code === "EPERM"
            ? "run as root (creating events needs CAP_PERFMON), or start the exporter first"
            : "start the exporter first, so that it registers the event"),
      );
    }
  }
  let listener: TracefsListener;
  try {
    listener = TracefsListener.open({ tracefs, event, bufferSizeKb: options.bufferSizeKb });
  } catch (error) {
    if (created) deleteEvent(tracefs, event);
    const message = (error as Error).message;
    throw new CaptureError(
      /EACCES|EPERM/.test(message)
        ? `${message}: listening needs root (tracefs instances are root's)`
        : message,
    );
  }
  let stopReason: string | undefined;
  const offSignal = onStopSignal((signal) => {
    stopReason ??= signal;
  });
  warn(
    `${command}: listening to user_events:${event} (id ${listener.eventId}) on ` +
      `${listener.cpus} CPUs through ${listener.directory}`,
  );
  const deadline = options.durationS === undefined
    ? Infinity
    : Date.now() + options.durationS * 1000;
  let events = 0, reportedLost = 0, reportedPages = 0;
  const pollMs = options.pollMs ?? 50;
  try {
    while (stopReason === undefined) {
      const batch = listener.poll();
      for (const e of batch) {
        events++;
        if (options.onPayload(e.payload) === false) {
          stopReason = "count";
          break;
        }
      }
      if (listener.lostPages !== reportedPages) {
        const newLost = listener.lostEvents - reportedLost;
        warn(
          `${command}: ring buffer overrun: ${newLost > 0 ? newLost : "an unknown number of"} ` +
            `events lost (total ${listener.lostEvents} events on ${listener.lostPages} pages; ` +
            `per CPU ${JSON.stringify(Array.from(listener.lostEventsByCpu, (n) => n ?? 0))}); ` +
            `raise --buffer-size-kb or filter less`,
        );
        reportedLost = listener.lostEvents;
        reportedPages = listener.lostPages;
      }
      await options.afterPoll?.();
      if (Date.now() >= deadline) stopReason ??= "duration";
      if (stopReason !== undefined) break;
      // Busy buffers are read again at once; empty ones after pollMs.
      await new Promise((r) => setTimeout(r, batch.length > 0 ? 0 : pollMs));
    }
    // One last read: what arrived before the stop.
    if (stopReason !== "count") {
      for (const e of listener.poll()) {
        events++;
        if (options.onPayload(e.payload) === false) break;
      }
      await options.afterPoll?.();
    }
    return {
      events,
      lostEvents: listener.lostEvents,
      lostPages: listener.lostPages,
      kernel: listener.bufferStats(),
      reason: stopReason ?? "done",
    };
  } finally {
    offSignal();
    listener.close();
    if (created) {
      const why = deleteEvent(tracefs, event);
      if (why === undefined) warn(`${command}: removed user_events:${event}`);
      else {
        warn(
          `${command}: could not remove user_events:${event}, which it created (${why}` +
            `${why.startsWith("EBUSY") ? ": a process still has it registered" : ""}); ` +
            `it stays until deleted`,
        );
      }
    }
  }
}
