/*
 * bcryptprimitives.c: a tiny bcryptprimitives.dll that lets the Windows builds of
 * deno.exe and bun.exe start under Wine 8.0 (Debian 12). Placed next to the .exe.
 *
 * 1. Rust >= 1.78 std imports bcryptprimitives.dll!ProcessPrng, which Wine 8.0
 *    lacks (loader status c0000135, wine exits 53). We export ProcessPrng and
 *    fill the buffer through advapi32!SystemFunction036 (RtlGenRandom).
 * 2. V8 only uses placeholder reservations (VirtualAlloc2 with
 *    MEM_RESERVE_PLACEHOLDER, rejected by Wine 8.0) when kernelbase exports
 *    VirtualAlloc2, MapViewOfFile3 and UnmapViewOfFile2. DllMain, which runs
 *    before any of the process's own code, renames kernelbase's
 *    "UnmapViewOfFile2" export in place to "UnmapViewOfFile0" (same length, and
 *    the export name table stays sorted), so V8 takes its plain MEM_RESERVE path.
 *
 * Build (tests/wine/setup.sh):
 *   x86_64-w64-mingw32-gcc -O2 -s -shared -nostdlib -ffreestanding \
 *     -o bcryptprimitives.dll bcryptprimitives.c -lkernel32 -ladvapi32 -Wl,-e,DllMain
 * No C runtime: only kernel32 and advapi32 imports.
 */
#include <windows.h>

/* advapi32 export "SystemFunction036" = RtlGenRandom. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T size) {
  while (size) {
    ULONG chunk = size > 0x40000000u ? 0x40000000u : (ULONG)size;
    if (!SystemFunction036(data, chunk)) return FALSE;
    data += chunk;
    size -= chunk;
  }
  return TRUE; /* Windows documents ProcessPrng as always returning TRUE */
}

static int same(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}

static void hide_unmapviewoffile2(void) {
  BYTE *base = (BYTE *)GetModuleHandleA("kernelbase.dll");
  if (!base) return;
  IMAGE_DOS_HEADER *dos = (IMAGE_DOS_HEADER *)base;
  if (dos->e_magic != IMAGE_DOS_SIGNATURE) return;
  IMAGE_NT_HEADERS *nt = (IMAGE_NT_HEADERS *)(base + dos->e_lfanew);
  IMAGE_DATA_DIRECTORY *dir = &nt->OptionalHeader.DataDirectory[IMAGE_DIRECTORY_ENTRY_EXPORT];
  if (!dir->VirtualAddress) return;
  IMAGE_EXPORT_DIRECTORY *exp = (IMAGE_EXPORT_DIRECTORY *)(base + dir->VirtualAddress);
  DWORD *names = (DWORD *)(base + exp->AddressOfNames);
  for (DWORD i = 0; i < exp->NumberOfNames; i++) {
    char *name = (char *)(base + names[i]);
    if (!same(name, "UnmapViewOfFile2")) continue;
    char *last = name + 15; /* the trailing '2' */
    DWORD old;
    if (VirtualProtect(last, 1, PAGE_READWRITE, &old)) {
      *last = '0';
      VirtualProtect(last, 1, old, &old);
    }
    return;
  }
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved) {
  (void)inst;
  (void)reserved;
  if (reason == DLL_PROCESS_ATTACH) hide_unmapviewoffile2();
  return TRUE;
}
