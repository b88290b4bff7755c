/**
 * The TraceLogging `otlp_metrics` event of the Rust crate `opentelemetry-etw-metrics`, byte for
 * byte: provider, provider traits, event metadata, EVENT_DESCRIPTOR and data descriptor types.
 *
 * @module
 */

/** The provider name the Rust crate registers. */
export const ETW_PROVIDER_NAME = "NativeMetricsExtension_Provider";
/** The provider GUID consumers (Geneva) listen to. */
export const ETW_PROVIDER_GUID = "EDC24920-E004-40F6-A8E1-0E6E48F39D84";
/** Largest payload the Rust and .NET exporters write into ETW. */
export const ETW_PAYLOAD_LIMIT = 65360;
/** Event id of `otlp_metrics`. */
export const ETW_EVENT_ID = 81;
/** Level checked and written: Informational. */
export const ETW_LEVEL = 4;
/** Keyword checked and written (TraceLogging's "no assigned keyword"). */
export const ETW_KEYWORD = 1n;
/** `EVENT_INFO_CLASS` EventProviderSetTraits. */
export const EVENT_PROVIDER_SET_TRAITS = 2;
/** EVENT_DATA_DESCRIPTOR types. */
export const DESCRIPTOR_TYPE_NONE = 0,
  DESCRIPTOR_TYPE_EVENT_METADATA = 1,
  DESCRIPTOR_TYPE_PROVIDER_METADATA = 2;

/** A GUID string's 16 bytes as in memory: Data1-3 little-endian, Data4 as written. */
export function guidBytes(guid: string): Uint8Array {
  const hex = guid.replace(/[{}]/g, "");
  const m = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i.exec(hex);
  if (!m) throw new RangeError(`not a GUID: ${guid}`);
  const out = new Uint8Array(16);
  const v = new DataView(out.buffer);
  v.setUint32(0, parseInt(m[1]!, 16), true);
  v.setUint16(4, parseInt(m[2]!, 16), true);
  v.setUint16(6, parseInt(m[3]!, 16), true);
  const rest = m[4]! + m[5]!;
  for (let i = 0; i < 8; i++) out[8 + i] = parseInt(rest.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Provider traits: `u16` total size, the UTF-8 name, NUL (no group trait). */
export function providerTraits(name: string): Uint8Array {
  const utf8 = new TextEncoder().encode(name);
  const out = new Uint8Array(2 + utf8.length + 1);
  new DataView(out.buffer).setUint16(0, out.length, true);
  out.set(utf8, 2);
  return out;
}

/** Event metadata: `u16` size, tag byte 0, the name, NUL; no fields (the payload is raw data). */
export function eventMetadata(name = "otlp_metrics"): Uint8Array {
  const utf8 = new TextEncoder().encode(name);
  const out = new Uint8Array(2 + 1 + utf8.length + 1);
  new DataView(out.buffer).setUint16(0, out.length, true);
  out[2] = 0;
  out.set(utf8, 3);
  return out;
}

/** EVENT_DESCRIPTOR: Id 81, Version 0, Channel 11 (TraceLogging), Level 4, Opcode 0, Task 0, Keyword 1. */
export function eventDescriptor(): Uint8Array {
  const out = new Uint8Array(16);
  const v = new DataView(out.buffer);
  v.setUint16(0, ETW_EVENT_ID, true);
  out[2] = 0;
  out[3] = 11;
  out[4] = ETW_LEVEL;
  out[5] = 0;
  v.setUint16(6, 0, true);
  v.setBigUint64(8, ETW_KEYWORD, true);
  return out;
}

const WIN32_ERRORS: Record<number, string> = {
  5: "ERROR_ACCESS_DENIED",
  6: "ERROR_INVALID_HANDLE",
  8: "ERROR_NOT_ENOUGH_MEMORY",
  50: "ERROR_NOT_SUPPORTED",
  87: "ERROR_INVALID_PARAMETER",
  234: "ERROR_MORE_DATA",
  534: "ERROR_ARITHMETIC_OVERFLOW",
  1450: "ERROR_NO_SYSTEM_RESOURCES",
};

/** `"ERROR_ARITHMETIC_OVERFLOW (534)"` for 534. */
export function win32ErrorName(code: number): string {
  return `${WIN32_ERRORS[code] ?? "WIN32_ERROR"} (${code})`;
}
