/**
 * The Windows ETW sink: a TraceLogging provider writing event `otlp_metrics` (id 81) with one
 * OTLP request per data point, as the Rust crate `opentelemetry-etw-metrics` does.
 *
 * @module
 */
import { ADVAPI32_PATH, ADVAPI32_SYMBOLS, ffi, NativeBlock } from "../../../ffi/mod.ts";
import type { FfiLibrary } from "../../../ffi/types.ts";
import { EtwError } from "../../errors.ts";
import { type NativeSink, WRITE_OK } from "../sink.ts";
import {
  DESCRIPTOR_TYPE_EVENT_METADATA,
  DESCRIPTOR_TYPE_NONE,
  DESCRIPTOR_TYPE_PROVIDER_METADATA,
  ETW_KEYWORD,
  ETW_LEVEL,
  ETW_PAYLOAD_LIMIT,
  ETW_PROVIDER_GUID,
  ETW_PROVIDER_NAME,
  EVENT_PROVIDER_SET_TRAITS,
  eventDescriptor,
  eventMetadata,
  guidBytes,
  providerTraits,
  win32ErrorName,
} from "./abi.ts";

/** Options of {@linkcode EtwSink}. */
export interface EtwSinkOptions {
  /** Provider name (default `NativeMetricsExtension_Provider`, the Rust crate's). */
  providerName?: string;
  /** Provider GUID (default `EDC24920-E004-40F6-A8E1-0E6E48F39D84`, what Geneva listens to). */
  providerGuid?: string;
  /** The library to load (default `advapi32.dll`; a path to a stand-in for tests). */
  library?: string;
  /** Largest payload written (default and maximum 65360, the anchors' ETW limit). */
  maxPayloadSize?: number;
}

// Arena: every pointer ETW receives points into calloc'd memory that never moves.
const GUID_OFFSET = 0;
const HANDLE_OFFSET = 16;
const DESCRIPTOR_OFFSET = 32;
const DATA_OFFSET = 48; // EVENT_DATA_DESCRIPTOR[3]: { u64 Ptr; u32 Size; u8 Type; u8 R1; u16 R2 }
const METADATA_OFFSET = 96;
const TRAITS_OFFSET = 128;
const STAGING_OFFSET = 1152;
const TWO_32 = 4294967296;

/**
 * Exports into ETW through advapi32.dll. Registers on creation; polls `EventProviderEnabled`
 * (level 4, keyword 1) before each point instead of using an enable callback, which neither
 * runtime can safely receive on ETW's thread.
 *
 * @example
 * ```ts ignore
 * import { EtwSink, NativeMetricsExporter } from "../../../mod.ts";
 * const exporter = new NativeMetricsExporter({ sink: new EtwSink() });
 * ```
 */
export class EtwSink implements NativeSink {
  readonly kind = "etw";
  readonly maxPayloadSize: number;
  readonly headroom = 0;
  readonly staging: Uint8Array;
  /** The provider's registration handle. */
  readonly handle: bigint;
  readonly #lib: FfiLibrary<typeof ADVAPI32_SYMBOLS>;
  readonly #arena: NativeBlock;
  readonly #payloadDescriptor: Uint32Array;
  readonly #descriptorAddress: bigint;
  readonly #dataAddress: bigint;
  readonly #stagingLo: number;
  readonly #stagingHi: number;
  #registered = false;

  /**
   * Loads advapi32 and registers the provider.
   *
   * @throws {EtwError} naming the Win32 error of the failing call
   * @throws {LibraryNotFoundError | SymbolNotFoundError} when the library cannot be loaded
   */
  constructor(options: EtwSinkOptions = {}) {
    const limit = options.maxPayloadSize ?? ETW_PAYLOAD_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > ETW_PAYLOAD_LIMIT) {
      throw new RangeError(
        `maxPayloadSize must be an integer from 1 to ${ETW_PAYLOAD_LIMIT}, got ${limit}`,
      );
    }
    this.maxPayloadSize = limit;
    const guid = guidBytes(options.providerGuid ?? ETW_PROVIDER_GUID);
    const traits = providerTraits(options.providerName ?? ETW_PROVIDER_NAME);
    if (traits.length > STAGING_OFFSET - TRAITS_OFFSET) {
      throw new RangeError("providerName is too long");
    }
    const metadata = eventMetadata();
    this.#lib = ffi().open(options.library ?? ADVAPI32_PATH, ADVAPI32_SYMBOLS);
    // The staging area holds a point up to twice the limit so an oversize one is measured exactly.
    const stagingSize = 2 * limit + 1024;
    const arena = NativeBlock.allocate(STAGING_OFFSET + stagingSize);
    this.#arena = arena;
    arena.bytes.set(guid, GUID_OFFSET);
    arena.bytes.set(eventDescriptor(), DESCRIPTOR_OFFSET);
    arena.bytes.set(metadata, METADATA_OFFSET);
    arena.bytes.set(traits, TRAITS_OFFSET);
    const v = arena.view;
    const descriptor = (i: number, address: bigint, size: number, type: number) => {
      v.setBigUint64(DATA_OFFSET + 16 * i, address, true);
      v.setUint32(DATA_OFFSET + 16 * i + 8, size, true);
      v.setUint8(DATA_OFFSET + 16 * i + 12, type);
    };
    descriptor(0, arena.at(TRAITS_OFFSET), traits.length, DESCRIPTOR_TYPE_PROVIDER_METADATA);
    descriptor(1, arena.at(METADATA_OFFSET), metadata.length, DESCRIPTOR_TYPE_EVENT_METADATA);
    descriptor(2, 0n, 0, DESCRIPTOR_TYPE_NONE);
    this.staging = new Uint8Array(arena.bytes.buffer, STAGING_OFFSET, stagingSize);
    this.#payloadDescriptor = new Uint32Array(arena.bytes.buffer, DATA_OFFSET + 32, 3);
    this.#descriptorAddress = arena.at(DESCRIPTOR_OFFSET);
    this.#dataAddress = arena.at(DATA_OFFSET);
    const stagingAddress = arena.at(STAGING_OFFSET);
    this.#stagingLo = Number(stagingAddress & 0xffffffffn);
    this.#stagingHi = Number(stagingAddress >> 32n);

    const f = this.#lib.symbols;
    const rc = f.EventRegister(arena.at(GUID_OFFSET), 0n, 0n, arena.at(HANDLE_OFFSET));
    if (rc !== 0) {
      arena.free();
      this.#lib.close();
      throw new EtwError(`EventRegister failed with ${win32ErrorName(rc)}`, { code: rc });
    }
    this.handle = v.getBigUint64(HANDLE_OFFSET, true);
    const traitsRc = f.EventSetInformation(
      this.handle,
      EVENT_PROVIDER_SET_TRAITS,
      arena.at(TRAITS_OFFSET),
      traits.length,
    );
    if (traitsRc !== 0) {
      // Without traits ETW would not honour the metadata descriptors: events would be malformed.
      f.EventUnregister(this.handle);
      arena.free();
      this.#lib.close();
      throw new EtwError(
        `EventSetInformation(EventProviderSetTraits) failed with ${win32ErrorName(traitsRc)} ` +
          `(it needs Windows 8 / Server 2012 or later, or Windows 7 with updates)`,
        { code: traitsRc },
      );
    }
    this.#registered = true;
  }

  isEnabled(): boolean {
    return this.#registered &&
      this.#lib.symbols.EventProviderEnabled(this.handle, ETW_LEVEL, ETW_KEYWORD) !== 0;
  }

  write(start: number, end: number): number {
    if (!this.#registered) return 6; // ERROR_INVALID_HANDLE
    // Ptr = staging address + start, carried by hand in 32-bit halves (no bigint, no float remainder).
    let lo = this.#stagingLo + start;
    let hi = this.#stagingHi;
    if (lo >= TWO_32) {
      lo -= TWO_32;
      hi++;
    }
    const d = this.#payloadDescriptor;
    d[0] = lo;
    d[1] = hi;
    d[2] = end - start;
    const rc = this.#lib.symbols.EventWriteTransfer(
      this.handle,
      this.#descriptorAddress,
      0n,
      0n,
      3,
      this.#dataAddress,
    );
    return rc === 0 ? WRITE_OK : rc;
  }

  describeError(code: number): string {
    return win32ErrorName(code);
  }

  /** Unregisters the provider, then frees the memory (kept if unregistering fails). */
  shutdown(): void {
    if (!this.#registered) return;
    this.#registered = false;
    const rc = this.#lib.symbols.EventUnregister(this.handle);
    if (rc === 0) this.#arena.free();
    else throw new EtwError(`EventUnregister failed with ${win32ErrorName(rc)}`, { code: rc });
  }
}
