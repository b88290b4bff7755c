/**
 * advapi32.dll's ETW provider functions (Windows x64: one calling convention; `REGHANDLE` is a
 * u64). Pointers are `u64` addresses of native memory; NULL is `0n`.
 *
 * @module
 */

/** The five functions the ETW sink calls. */
export const ADVAPI32_SYMBOLS = {
  /** ULONG EventRegister(LPCGUID ProviderId, PENABLECALLBACK EnableCallback, PVOID CallbackContext, PREGHANDLE RegHandle); */
  EventRegister: { parameters: ["u64", "u64", "u64", "u64"], result: "u32" },
  /** ULONG EventUnregister(REGHANDLE RegHandle); */
  EventUnregister: { parameters: ["u64"], result: "u32" },
  /** ULONG EventSetInformation(REGHANDLE RegHandle, EVENT_INFO_CLASS InformationClass, PVOID EventInformation, ULONG InformationLength); */
  EventSetInformation: { parameters: ["u64", "u32", "u64", "u32"], result: "u32" },
  /** BOOLEAN EventProviderEnabled(REGHANDLE RegHandle, UCHAR Level, ULONGLONG Keyword); */
  EventProviderEnabled: { parameters: ["u64", "u8", "u64"], result: "u8" },
  /** ULONG EventWriteTransfer(REGHANDLE RegHandle, PCEVENT_DESCRIPTOR EventDescriptor, LPCGUID ActivityId, LPCGUID RelatedActivityId, ULONG UserDataCount, PEVENT_DATA_DESCRIPTOR UserData); */
  EventWriteTransfer: { parameters: ["u64", "u64", "u64", "u64", "u32", "u64"], result: "u32" },
} as const;

/** The library's Windows name. */
export const ADVAPI32_PATH = "advapi32.dll";
