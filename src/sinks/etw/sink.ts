/**
 * The Windows ETW sink: a TraceLogging provider writing event `otlp_metrics` (id 81) with one
 * OTLP request per data point, as the Rust crate `opentelemetry-etw-metrics` does.
 *
 * @module
 */
import { ADVAPI32_PATH, ADVAPI32_SYMBOLS, ffi, NativeBlock } from "../../../ffi/mod.ts";
import { SplitAddress } from "../../../ffi/address.ts";
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
const PAYLOAD_DESCRIPTOR_OFFSET = DATA_OFFSET + 32; // [2]: the one rewritten per event
const METADATA_OFFSET = 96;
const TRAITS_OFFSET = 128;
const STAGING_OFFSET = 1152;

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
  /**
   * Set by {@linkcode shutdown} when `EventUnregister` failed: the native memory was then left
   * allocated on purpose (ETW may still hold the registration), a bounded leak of one arena.
   */
  leaked = false;
  /** Why {@linkcode shutdown} could not unregister (the Win32 error), for the exporter to log. */
  shutdownError: EtwError | undefined;
  readonly #lib: FfiLibrary<typeof ADVAPI32_SYMBOLS>;
  readonly #arena: NativeBlock;
  /** EVENT_DATA_DESCRIPTOR[2] as u32 words: Ptr (0, 1) and Size (2). */
  readonly #payloadDescriptor: Uint32Array;
  readonly #descriptorAddress: bigint;
  readonly #dataAddress: bigint;
  readonly #stagingAddress: SplitAddress;
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
    const lib = this.#lib = ffi().open(options.library ?? ADVAPI32_PATH, ADVAPI32_SYMBOLS);
    // The staging area holds a point up to twice the limit so an oversize one is measured exactly.
    const stagingSize = 2 * limit + 1024;
    let arena: NativeBlock;
    try {
      arena = NativeBlock.allocate(STAGING_OFFSET + stagingSize);
    } catch (error) {
      lib.close();
      throw error;
    }
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
    this.#payloadDescriptor = new Uint32Array(arena.bytes.buffer, PAYLOAD_DESCRIPTOR_OFFSET, 3);
    this.#descriptorAddress = arena.at(DESCRIPTOR_OFFSET);
    this.#dataAddress = arena.at(DATA_OFFSET);
    this.#stagingAddress = new SplitAddress(arena.at(STAGING_OFFSET));

    const f = lib.symbols;
    const rc = f.EventRegister(arena.at(GUID_OFFSET), 0n, 0n, arena.at(HANDLE_OFFSET));
    if (rc !== 0) {
      arena.free(); // not registered: ETW holds no pointer into it
      lib.close();
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
      // If unregistering fails too, ETW may keep the registration: keep its memory.
      if (f.EventUnregister(this.handle) === 0) arena.free();
      lib.close();
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
    const d = this.#payloadDescriptor;
    this.#stagingAddress.store(d, 0, start); // Ptr = staging address + start
    d[2] = end - start; // Size
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

  /**
   * Unregisters the provider, then frees the memory. Never throws: if `EventUnregister` fails,
   * the memory is kept on purpose and {@linkcode leaked} and {@linkcode shutdownError} say so.
   * Later writes return ERROR_INVALID_HANDLE without calling ETW. Idempotent.
   */
  shutdown(): void {
    if (!this.#registered) return;
    this.#registered = false;
    const rc = this.#lib.symbols.EventUnregister(this.handle);
    if (rc === 0) {
      this.#arena.free();
      return;
    }
    this.leaked = true;
    this.shutdownError = new EtwError(
      `EventUnregister failed with ${win32ErrorName(rc)}: the provider's memory ` +
        `(${this.#arena.bytes.length} bytes) is kept allocated, since ETW may still use it`,
      { code: rc },
    );
  }
}
