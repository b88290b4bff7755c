/**
 * Errors of the native sinks. Each message says what is missing and how to provide it.
 *
 * @module
 */

/** Base class of the sinks' setup errors. */
export class NativeSinkError extends Error {
  /** The errno or Win32 error code behind the failure, when there is one. */
  readonly code: number | undefined;
  /** Creates an error with an optional code and cause. */
  constructor(message: string, options?: { code?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = options?.code;
  }
  override name = "NativeSinkError";
}

/** No tracefs mount was found. */
export class TracefsNotFoundError extends NativeSinkError {
  override name = "TracefsNotFoundError";
}

/** tracefs is mounted but the kernel has no user_events (CONFIG_USER_EVENTS, Linux ≥ 6.4). */
export class UserEventsUnavailableError extends NativeSinkError {
  override name = "UserEventsUnavailableError";
}

/** The process may not open or register user_events (EACCES / EPERM). */
export class UserEventsPermissionError extends NativeSinkError {
  override name = "UserEventsPermissionError";
}

/** An event with the same name but another definition exists (EADDRINUSE). */
export class EventDefinitionConflictError extends NativeSinkError {
  override name = "EventDefinitionConflictError";
}

/** Any other registration failure. */
export class RegistrationError extends NativeSinkError {
  override name = "RegistrationError";
}

/** The sink is not available on this operating system. */
export class UnsupportedPlatformError extends NativeSinkError {
  override name = "UnsupportedPlatformError";
}

export { errnoName } from "../ffi/errno.ts";

/** An ETW provider call failed (the message names the Win32 error). */
export class EtwError extends NativeSinkError {
  override name = "EtwError";
}
