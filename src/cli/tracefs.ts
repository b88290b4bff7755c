/// <reference types="node" />
/**
 * tracefs chores of `listen` and `status`: finding tracefs, creating `user_events:<name>`
 * through `dynamic_events` and deleting it again (`DIAG_IOCSDEL`).
 *
 * @module
 */
import { existsSync } from "node:fs";
import {
  cString,
  errno,
  errnoName,
  libc,
  NativeBlock,
  O_CLOEXEC,
  O_WRONLY,
  readSmallFile,
} from "../../ffi/mod.ts";
import { eventDefinition, OTLP_METRICS_FIELDS } from "../sinks/user_events/abi.ts";
import { DEFAULT_TRACEFS, tracefsFromMounts } from "../sinks/user_events/discovery.ts";

/** `DIAG_IOCSDEL`: delete an event by name (`_IOW('*', 1, char *)`). */
const DIAG_IOCSDEL = 0x40082a01n;

/** The tracefs directory: `/sys/kernel/tracing` if mounted, else the first in /proc/mounts. */
export function findTracefs(): string | undefined {
  let mounts: string[] = [];
  const text = readSmallFile("/proc/mounts").text;
  if (text !== undefined) mounts = tracefsFromMounts(text);
  if (mounts.includes(DEFAULT_TRACEFS) || existsSync(`${DEFAULT_TRACEFS}/trace`)) {
    return DEFAULT_TRACEFS;
  }
  return mounts.find((m) => existsSync(`${m}/trace`));
}

/** The fields of the definition the exporter registers (what follows the name). */
export function definitionFields(): string {
  return OTLP_METRICS_FIELDS;
}

/**
 * The `dynamic_events` line that creates `user_events:<event>` with the exporter's fields.
 *
 * @throws {RangeError} an event name that is not a C identifier
 */
export function dynamicEventLine(event: string): string {
  return `u:${eventDefinition(event)}`;
}

/** Whether `user_events:<event>` exists. */
export function eventExists(tracefs: string, event: string): boolean {
  return existsSync(`${tracefs}/events/user_events/${event}/id`);
}

/** O_APPEND (x86_64 and aarch64 Linux). */
const O_APPEND = 0x400;

/**
 * Creates `user_events:<event>` (persistent until deleted). Throws an error whose `code` is the
 * errno name (`ENOENT`, `EACCES`, ...). Through libc, like the listener's own tracefs writes:
 * the listener's ring-buffer descriptors are opened right after, and must not share fd numbers
 * with anything the runtime's fs layer might still close (a Bun run once saw EBADF on one).
 */
export function createEvent(tracefs: string, event: string): void {
  // Append, never truncate: opening dynamic_events with O_TRUNC deletes every dynamic event.
  const c = libc();
  const path = `${tracefs}/dynamic_events`;
  const fd = c.open(cString(path), O_WRONLY | O_APPEND | O_CLOEXEC);
  const fail = (what: string) => {
    const name = errnoName(errno());
    throw Object.assign(new Error(`${what} ${path}: ${name}`), { code: name.split(" ")[0] });
  };
  if (fd < 0) fail("cannot open");
  try {
    const bytes = new TextEncoder().encode(dynamicEventLine(event) + "\n");
    if (c.write(fd, bytes, BigInt(bytes.length)) !== bytes.length) fail("cannot write");
  } finally {
    c.close(fd);
  }
}

/**
 * Deletes `user_events:<event>` with `DIAG_IOCSDEL`. Returns `undefined` on success, else why
 * not (`EBUSY`: a process still has it registered).
 */
export function deleteEvent(tracefs: string, event: string): string | undefined {
  const c = libc();
  const fd = c.open(cString(`${tracefs}/user_events_data`), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return `cannot open user_events_data: ${errnoName(errno())}`;
  const name = new TextEncoder().encode(event + "\0");
  const block = NativeBlock.allocate(name.length);
  try {
    block.bytes.set(name);
    if (c.ioctl(fd, DIAG_IOCSDEL, block.address) < 0) return errnoName(errno());
    return undefined;
  } finally {
    block.free();
    c.close(fd);
  }
}
