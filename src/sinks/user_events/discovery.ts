/**
 * Finding tracefs and opening `user_events_data`, with errors that say what is missing.
 *
 * @module
 */
import { Errno, O_CLOEXEC, O_WRONLY } from "../../../ffi/mod.ts";
import {
  errnoName,
  TracefsNotFoundError,
  UserEventsPermissionError,
  UserEventsUnavailableError,
} from "../../errors.ts";
import { libcSyscalls, type UserEventsSyscalls } from "./syscalls.ts";

const { ENOENT, EACCES, EPERM } = Errno;

/** The default tracefs mount point. */
export const DEFAULT_TRACEFS = "/sys/kernel/tracing";

/**
 * tracefs directories named by `/proc/mounts`, in the order the Microsoft libraries use:
 * tracefs mounts first, then `<debugfs>/tracing`.
 */
export function tracefsFromMounts(mounts: string): string[] {
  const tracefs: string[] = [];
  const debugfs: string[] = [];
  for (const line of mounts.split("\n")) {
    const [, mountPoint, type] = line.split(" ");
    if (!mountPoint) continue;
    const dir = mountPoint.replace(/\\040/g, " ");
    if (type === "tracefs") tracefs.push(dir);
    else if (type === "debugfs") debugfs.push(`${dir}/tracing`);
  }
  return [...tracefs, ...debugfs];
}

/** An open `user_events_data` file. */
export interface OpenedUserEvents {
  /** Its file descriptor (close-on-exec). */
  fd: number;
  /** The tracefs directory it belongs to. */
  tracefs: string;
}

/**
 * Opens `<tracefs>/user_events_data` for writing: `dir` if given, else `/sys/kernel/tracing`,
 * else the mounts `/proc/mounts` lists.
 *
 * @throws {TracefsNotFoundError} no tracefs is mounted
 * @throws {UserEventsUnavailableError} tracefs has no `user_events_data`
 * @throws {UserEventsPermissionError} EACCES / EPERM
 */
export function openUserEventsData(
  dir?: string,
  sys: UserEventsSyscalls = libcSyscalls(),
): OpenedUserEvents {
  const mounts = sys.readFile("/proc/mounts").text;
  const mounted = mounts === undefined ? undefined : tracefsFromMounts(mounts);
  const candidates = dir !== undefined ? [dir] : [DEFAULT_TRACEFS, ...(mounted ?? [])];
  let missingIn: string | undefined;
  for (const candidate of new Set(candidates)) {
    const path = `${candidate}/user_events_data`;
    const fd = sys.open(path, O_WRONLY | O_CLOEXEC);
    if (fd >= 0) return { fd, tracefs: candidate };
    const code = sys.errno();
    if (code === EACCES || code === EPERM) {
      throw new UserEventsPermissionError(
        `Permission denied opening ${path} (${errnoName(code)}): writing user_events needs root, ` +
          `or write permission on user_events_data plus search (x) permission on ${candidate} ` +
          `(e.g. a "tracing" group: chgrp tracing ${candidate} ${path}; chmod g+x ${candidate}; ` +
          `chmod g+w ${path}).`,
        { code },
      );
    }
    if (code !== ENOENT) {
      throw new UserEventsUnavailableError(`Cannot open ${path}: ${errnoName(code)}`, { code });
    }
    // ENOENT: is this directory a tracefs at all?
    if (mounted?.includes(candidate) || (dir !== undefined && mounted === undefined)) {
      missingIn ??= candidate;
    }
  }
  if (missingIn !== undefined) {
    throw new UserEventsUnavailableError(
      `tracefs is mounted at ${missingIn} but has no user_events_data: this kernel lacks ` +
        `user_events (it needs Linux 6.4 or later built with CONFIG_USER_EVENTS=y).`,
      { code: ENOENT },
    );
  }
  throw new TracefsNotFoundError(
    dir !== undefined
      ? `${dir} is not a mounted tracefs (no user_events_data there, and /proc/mounts lists no tracefs at it).`
      : `tracefs is not mounted (tried ${DEFAULT_TRACEFS} and /proc/mounts): mount it with ` +
        `"mount -t tracefs nodev ${DEFAULT_TRACEFS}" (as root).`,
    { code: ENOENT },
  );
}
