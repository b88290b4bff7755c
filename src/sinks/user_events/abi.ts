/**
 * The Linux user_events ABI (`include/uapi/linux/user_events.h`) and the wire contract of the
 * `otlp_metrics` event shared with the Rust and .NET exporters.
 *
 * @module
 */

/**
 * The event definition we register: the Rust crate's and the .NET exporter's three fields
 * (`u32 protocol;char[8] version;__rel_loc u8[] buffer;` and the same without the last `;`),
 * written with a space after each `;`.
 *
 * Why the spaces: the kernel compares a registration of an existing name field by field, and
 * before Linux 6.10 ("tracing/user_events: Fix non-spaced field matching") it split the *new*
 * registration on whitespace only, so an unspaced definition never matches the event it names:
 * only its first registrant succeeds, every later one (another exporter, worker or restarted
 * process while the event lives) gets EADDRINUSE. The spaced form splits into the same three
 * fields on every kernel from 6.4 on, so it joins the event whoever created it (us, the Rust
 * crate, the .NET exporter); the event it creates has the same fields, offsets and format.
 * (On those kernels the Rust and .NET strings still fail whenever they come second: theirs to
 * fix.) No trailing `;`: with or without it the result is the same on 6.12 and on 6.12 with the
 * pre-6.10 matching restored (tests/kernel/registration_kernel_test.ts).
 */
export const OTLP_METRICS_DEFINITION: string =
  "otlp_metrics u32 protocol; char[8] version; __rel_loc u8[] buffer";
/** The event name every exporter and listener uses unless told otherwise. */
export const OTLP_METRICS_EVENT_NAME = "otlp_metrics";
/** The definition's fields, after the name (see {@linkcode OTLP_METRICS_DEFINITION}). */
export const OTLP_METRICS_FIELDS: string = OTLP_METRICS_DEFINITION.slice(
  OTLP_METRICS_EVENT_NAME.length + 1,
);
/** Longest definition the kernel takes, NUL included (`MAX_EVENT_DESC`). */
const MAX_EVENT_DESC = 512;

/**
 * The definition of an `otlp_metrics`-shaped event named `name`: the same fields under another
 * tracepoint name. Names are C identifiers (the kernel splits a definition at the first space
 * and treats `:` as flags; tracefs makes a directory of the name).
 *
 * @throws {RangeError} for a name that is not an identifier, or too long
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { eventDefinition } from "./abi.ts";
 * assert.equal(eventDefinition("checkout_metrics"), "checkout_metrics u32 protocol; char[8] version; __rel_loc u8[] buffer");
 * ```
 */
export function eventDefinition(name: string = OTLP_METRICS_EVENT_NAME): string {
  if (typeof name !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new RangeError(
      `eventName must be a C identifier (letters, digits, "_", not starting with a digit), ` +
        `got ${JSON.stringify(name)}`,
    );
  }
  const definition = `${name} ${OTLP_METRICS_FIELDS}`;
  if (definition.length + 1 > MAX_EVENT_DESC) {
    throw new RangeError(
      `eventName is too long: the definition must stay within ${MAX_EVENT_DESC - 1} bytes`,
    );
  }
  return definition;
}
/** `protocol` field value: OTLP protobuf. */
export const PROTOCOL_OTLP_PROTOBUF = 0;
/** `version` field: eight ASCII bytes, no NUL. */
export const EVENT_VERSION = "v0.19.00";
/**
 * {@linkcode EVENT_VERSION} as the two little-endian 32-bit words the header stores: derived from
 * the string, so the constant is what writes the bytes.
 */
const [VERSION_LOW, VERSION_HIGH] = (() => {
  const bytes = new TextEncoder().encode(EVENT_VERSION);
  if (bytes.length !== 8) throw new Error("EVENT_VERSION must be 8 ASCII bytes");
  const v = new DataView(bytes.buffer);
  return [v.getUint32(0, true), v.getUint32(4, true)];
})();
/** Bytes in front of the payload: write_index, protocol, version, rel_loc. */
export const EVENT_HEADER_SIZE = 20;

/** `DIAG_IOCSREG`: register an event (`_IOWR('*', 0, struct user_reg *)`). */
export const DIAG_IOCSREG = 0xc0082a00n;
/** `DIAG_IOCSUNREG`: remove an enable bit (`_IOW('*', 2, struct user_unreg *)`). */
export const DIAG_IOCSUNREG = 0x40082a02n;
/** `sizeof(struct user_reg)`. */
export const USER_REG_SIZE = 28;
/** `sizeof(struct user_unreg)`. */
export const USER_UNREG_SIZE = 16;

/**
 * Largest payload every listener receives whole with 4 KiB pages: ftrace (`trace`,
 * `trace_pipe`, `trace_pipe_raw`) keeps events up to one ring-buffer page minus headers.
 */
export const FTRACE_PAYLOAD_LIMIT = 4048;
/** Largest payload perf (`perf_event_open`, `perf record`) receives whole. Ftrace loses these. */
export const PERF_PAYLOAD_LIMIT = 8168;

/** Writes the 20-byte event header ending at `payloadStart` (which must be ≥ 20). */
export function writeEventHeader(
  view: DataView,
  payloadStart: number,
  payloadLength: number,
  writeIndex: number,
): void {
  const at = payloadStart - EVENT_HEADER_SIZE;
  view.setUint32(at, writeIndex, true);
  view.setUint32(at + 4, PROTOCOL_OTLP_PROTOBUF, true);
  view.setUint32(at + 8, VERSION_LOW, true);
  view.setUint32(at + 12, VERSION_HIGH, true);
  // __rel_loc: length in the high 16 bits, offset 0 from the end of this field.
  view.setUint32(at + 16, (payloadLength << 16) >>> 0, true);
}
