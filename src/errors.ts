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
  /** Always `"NativeSinkError"`, kept under minification. */
  override name = "NativeSinkError";
}

/** No tracefs mount was found. */
export class TracefsNotFoundError extends NativeSinkError {
  /** Always `"TracefsNotFoundError"`, kept under minification. */
  override name = "TracefsNotFoundError";
}

/** tracefs is mounted but the kernel has no user_events (CONFIG_USER_EVENTS, Linux ≥ 6.4). */
export class UserEventsUnavailableError extends NativeSinkError {
  /** Always `"UserEventsUnavailableError"`, kept under minification. */
  override name = "UserEventsUnavailableError";
}

/** The process may not open or register user_events (EACCES / EPERM). */
export class UserEventsPermissionError extends NativeSinkError {
  /** Always `"UserEventsPermissionError"`, kept under minification. */
  override name = "UserEventsPermissionError";
}

/** An event with the same name but another definition exists (EADDRINUSE). */
export class EventDefinitionConflictError extends NativeSinkError {
  /** Always `"EventDefinitionConflictError"`, kept under minification. */
  override name = "EventDefinitionConflictError";
}

/** Any other registration failure. */
export class RegistrationError extends NativeSinkError {
  /** Always `"RegistrationError"`, kept under minification. */
  override name = "RegistrationError";
}

/** The sink is not available on this operating system. */
export class UnsupportedPlatformError extends NativeSinkError {
  /** Always `"UnsupportedPlatformError"`, kept under minification. */
  override name = "UnsupportedPlatformError";
}

export { errnoName } from "../ffi/errno.ts";

/** An ETW provider call failed (the message names the Win32 error). */
export class EtwError extends NativeSinkError {
  /** Always `"EtwError"`, kept under minification. */
  override name = "EtwError";
}
