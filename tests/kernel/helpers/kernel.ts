/**
 * Shared pieces of the kernel-tier tests (run as root inside the QEMU VM): waiting, the
 * `otlp_metrics` event's id and deletion, and which kernel variant is running.
 *
 * @module
 */
import { cString, libc, NativeBlock, readSmallFile } from "../../../ffi/mod.ts";
import { openUserEventsData } from "../../../src/sinks/user_events/discovery.ts";

export const TRACING = "/sys/kernel/tracing";
export const EVENT_DIR = `${TRACING}/events/user_events/otlp_metrics`;

/** Why kernel-tier tests cannot run here, or undefined inside the user_events VM (as root). */
export const NO_KERNEL = readSmallFile(`${TRACING}/user_events_status`).text === undefined
  ? "needs a kernel with user_events, as root: runs in the QEMU tier (tests/kernel/run.sh)"
  : undefined;

/** `uname -r`. */
export const KERNEL_RELEASE = readSmallFile("/proc/sys/kernel/osrelease").text?.trim() ?? "";

/**
 * True on the test kernel built with tests/kernel/patches/pre610.patch (`uname -r` ends in
 * `-pre610`): Linux 6.12 with the field matching of 6.4–6.9, which splits a new registration on
 * whitespace only. False on the base kernel (the 6.10+ matching).
 */
export const PRE610_MATCHING = KERNEL_RELEASE.endsWith("-pre610");

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `check` every 10 ms until it is true; throws after `ms`. The default is generous on
 * purpose: the VM is emulated (TCG) on a shared 2-core machine, where a runtime's garbage
 * collection or a kernel work item can stall for seconds; a check that never comes true still
 * fails, only later.
 */
export async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await sleep(10);
  }
}

/** The id of `user_events:otlp_metrics`, or undefined while the event does not exist. */
export function eventId(): number | undefined {
  const text = readSmallFile(`${EVENT_DIR}/id`).text;
  return text === undefined ? undefined : Number(text.trim());
}

/** The `u:otlp_metrics ...` lines of `dynamic_events` (how the kernel stores the fields). */
export function dynamicEventLines(): string[] {
  return (readSmallFile(`${TRACING}/dynamic_events`).text ?? "").split("\n")
    .filter((l) => /^u:otlp_metrics\b/.test(l));
}

/**
 * Deletes `otlp_metrics` once nothing holds it (DIAG_IOCSDEL), instead of waiting for the
 * kernel's asynchronous deletion, so the next registration creates the event afresh.
 */
export async function deleteEvent(): Promise<void> {
  const { fd } = openUserEventsData();
  const name = NativeBlock.allocate(64);
  name.bytes.set(cString("otlp_metrics"));
  try {
    await until("otlp_metrics deleted", () => {
      if (eventId() === undefined) return true;
      libc().ioctl(fd, 0x40082a01n, name.address);
      return eventId() === undefined;
    });
  } finally {
    libc().close(fd);
    name.free();
  }
}
