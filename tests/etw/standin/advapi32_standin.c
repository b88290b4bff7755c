/*
 * advapi32_standin.c: a recording stand-in for the five advapi32 ETW functions
 * the ETW sink calls (EventRegister, EventUnregister, EventSetInformation,
 * EventProviderEnabled, EventWriteTransfer): the test double at the FFI boundary.
 *
 * One source, two builds (build-standin.sh): a gcc .so for Linux, a mingw-w64 DLL
 * for Wine. The ETW functions keep the Windows x64 signatures (evntprov.h):
 * REGHANDLE is a u64, ULONG a u32, BOOLEAN/UCHAR a u8, ULONGLONG a u64, the rest
 * pointers. x64 has one calling convention, so no WINAPI is needed.
 *
 * Every call is appended to an in-memory log, one JSON object per line (format:
 * README.md beside this directory). Tests read it back with standin_log_size() +
 * standin_log_copy(), say what EventProviderEnabled answers with
 * standin_set_enabled(), and inject faults with standin_fail(). Not thread-safe
 * (not required). ETW_STANDIN_STDERR=1 (read at the first call) also prints each
 * line to stderr, for debugging.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#define STANDIN_API __declspec(dllexport)
#else
#define STANDIN_API __attribute__((visibility("default")))
#endif

#define DEFAULT_HANDLE 0x1234u

typedef struct {
  uint32_t Data1;
  uint16_t Data2;
  uint16_t Data3;
  uint8_t Data4[8];
} standin_guid;

/* EVENT_DESCRIPTOR: 16 bytes. Read byte-wise so packing never matters. */
/* EVENT_DATA_DESCRIPTOR: u64 Ptr, u32 Size, u8 Type, u8 Reserved1, u16 Reserved2. */
#define EVENT_DESCRIPTOR_SIZE 16u
#define EVENT_DATA_DESCRIPTOR_SIZE 16u

/* ------------------------------------------------------------------ state */

enum { FN_REGISTER, FN_UNREGISTER, FN_SETINFO, FN_ENABLED, FN_WRITE, FN_COUNT };
static const char *const fn_names[FN_COUNT] = {
    "EventRegister", "EventUnregister", "EventSetInformation",
    "EventProviderEnabled", "EventWriteTransfer",
};

static struct {
  char *buf;
  size_t len, cap;
  int oom; /* a log append failed: the log is incomplete */
} logbuf;

/* A fault (standin_fail): the next `after` calls succeed, then `times` calls
 * return `code` (times 0: every call until cleared), then calls succeed again. */
typedef struct {
  uint32_t code; /* 0: no fault */
  uint32_t after;
  uint32_t times;
} fault;

static struct {
  uint8_t enabled;          /* what EventProviderEnabled returns */
  uint64_t next_handle;     /* what EventRegister writes through PREGHANDLE */
  fault faults[FN_COUNT];   /* per function */
  uint32_t calls[FN_COUNT]; /* calls per function since the last reset */
  uint64_t seq;             /* sequence number of the next log line */
} st = {0, DEFAULT_HANDLE, {{0, 0, 0}}, {0}, 0};

static int env_loaded;
static int env_stderr;

static void load_env(void) {
  if (env_loaded) return;
  env_loaded = 1;
  const char *e = getenv("ETW_STANDIN_STDERR");
  env_stderr = e && *e && strcmp(e, "0") != 0;
}

/* ------------------------------------------------------- text formatting */

static int reserve(size_t extra) {
  if (logbuf.len + extra + 1 <= logbuf.cap) return 1;
  size_t cap = logbuf.cap ? logbuf.cap : 4096;
  while (cap < logbuf.len + extra + 1) cap *= 2;
  char *nb = (char *)realloc(logbuf.buf, cap);
  if (!nb) {
    logbuf.oom = 1;
    return 0;
  }
  logbuf.buf = nb;
  logbuf.cap = cap;
  return 1;
}

static void put_n(const char *s, size_t n) {
  if (!reserve(n)) return;
  memcpy(logbuf.buf + logbuf.len, s, n);
  logbuf.len += n;
  logbuf.buf[logbuf.len] = '\0';
}

static void put(const char *s) { put_n(s, strlen(s)); }

static void put_dec(uint64_t v) {
  char tmp[24];
  int i = (int)sizeof tmp;
  do {
    tmp[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  put_n(tmp + i, sizeof tmp - (size_t)i);
}

static const char hexdig[] = "0123456789abcdef";

/* "0x" followed by the shortest lowercase hex of v, as a JSON string. */
static void put_hexnum(uint64_t v) {
  char tmp[16];
  int i = (int)sizeof tmp;
  do {
    tmp[--i] = hexdig[v & 15];
    v >>= 4;
  } while (v);
  put("\"0x");
  put_n(tmp + i, sizeof tmp - (size_t)i);
  put("\"");
}

/* A pointer argument: null, or its address as "0x…". */
static void put_ptr(const void *p) {
  if (!p) put("null");
  else put_hexnum((uint64_t)(uintptr_t)p);
}

/* Bytes as a JSON string of lowercase hex pairs, no separators. */
static void put_bytes(const void *p, size_t n) {
  const uint8_t *b = (const uint8_t *)p;
  if (!reserve(n * 2 + 2)) return;
  char *o = logbuf.buf + logbuf.len;
  *o++ = '"';
  for (size_t i = 0; i < n; i++) {
    *o++ = hexdig[b[i] >> 4];
    *o++ = hexdig[b[i] & 15];
  }
  *o++ = '"';
  logbuf.len += n * 2 + 2;
  logbuf.buf[logbuf.len] = '\0';
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | ((uint64_t)rd32(p + 4) << 32); }

static size_t line_start;

static void begin(int fn) {
  load_env();
  st.calls[fn]++;
  line_start = logbuf.len;
  put("{\"seq\":");
  put_dec(st.seq++);
  put(",\"fn\":\"");
  put(fn_names[fn]);
  put("\"");
}

/* The result of this call of `fn`: its fault's code when the fault hits it, else 0. */
static uint32_t result_for(int fn) {
  fault *f = &st.faults[fn];
  if (!f->code) return 0;
  if (f->after) {
    f->after--;
    return 0;
  }
  uint32_t r = f->code;
  if (f->times && --f->times == 0) f->code = 0;
  return r;
}

static void end(uint64_t result) {
  put(",\"result\":");
  put_dec(result);
  put("}\n");
  if (logbuf.oom || logbuf.len < line_start) return;
  if (env_stderr) {
    fwrite(logbuf.buf + line_start, 1, logbuf.len - line_start, stderr);
    fflush(stderr);
  }
}

/* ------------------------------------------------------ the ETW functions */

/* ULONG EventRegister(LPCGUID ProviderId, PENABLECALLBACK EnableCallback,
 *                     PVOID CallbackContext, PREGHANDLE RegHandle) */
STANDIN_API uint32_t EventRegister(const standin_guid *provider, void *callback, void *context,
                                   uint64_t *reg_handle) {
  begin(FN_REGISTER);
  put(",\"guid\":");
  if (provider) put_bytes(provider, sizeof *provider);
  else put("null");
  put(",\"callback\":");
  put_ptr(callback);
  put(",\"context\":");
  put_ptr(context);
  put(",\"handle_ptr\":");
  put_ptr(reg_handle);
  uint32_t r = result_for(FN_REGISTER);
  if (!r && (!provider || !reg_handle)) r = 87; /* ERROR_INVALID_PARAMETER */
  uint64_t h = r ? 0 : st.next_handle;
  if (reg_handle) *reg_handle = h;
  put(",\"handle\":");
  put_hexnum(h);
  end(r);
  return r;
}

/* ULONG EventUnregister(REGHANDLE RegHandle) */
STANDIN_API uint32_t EventUnregister(uint64_t reg_handle) {
  begin(FN_UNREGISTER);
  put(",\"handle\":");
  put_hexnum(reg_handle);
  uint32_t r = result_for(FN_UNREGISTER);
  end(r);
  return r;
}

/* ULONG EventSetInformation(REGHANDLE RegHandle, EVENT_INFO_CLASS InformationClass,
 *                           PVOID EventInformation, ULONG InformationLength) */
STANDIN_API uint32_t EventSetInformation(uint64_t reg_handle, uint32_t info_class, const void *info,
                                         uint32_t length) {
  begin(FN_SETINFO);
  put(",\"handle\":");
  put_hexnum(reg_handle);
  put(",\"class\":");
  put_dec(info_class);
  put(",\"length\":");
  put_dec(length);
  put(",\"info_ptr\":");
  put_ptr(info);
  put(",\"info\":");
  if (info) put_bytes(info, length);
  else put("null");
  uint32_t r = result_for(FN_SETINFO);
  end(r);
  return r;
}

/* BOOLEAN EventProviderEnabled(REGHANDLE RegHandle, UCHAR Level, ULONGLONG Keyword) */
STANDIN_API uint8_t EventProviderEnabled(uint64_t reg_handle, uint8_t level, uint64_t keyword) {
  begin(FN_ENABLED);
  put(",\"handle\":");
  put_hexnum(reg_handle);
  put(",\"level\":");
  put_dec(level);
  put(",\"keyword\":");
  put_hexnum(keyword);
  end(st.enabled);
  return st.enabled;
}

/* ULONG EventWriteTransfer(REGHANDLE RegHandle, PCEVENT_DESCRIPTOR EventDescriptor,
 *                          LPCGUID ActivityId, LPCGUID RelatedActivityId,
 *                          ULONG UserDataCount, PEVENT_DATA_DESCRIPTOR UserData) */
STANDIN_API uint32_t EventWriteTransfer(uint64_t reg_handle, const void *descriptor,
                                        const standin_guid *activity, const standin_guid *related,
                                        uint32_t count, const void *user_data) {
  begin(FN_WRITE);
  put(",\"handle\":");
  put_hexnum(reg_handle);
  put(",\"descriptor\":");
  if (descriptor) {
    const uint8_t *d = (const uint8_t *)descriptor;
    put_bytes(d, EVENT_DESCRIPTOR_SIZE);
    put(",\"id\":");
    put_dec(rd16(d));
    put(",\"version\":");
    put_dec(d[2]);
    put(",\"channel\":");
    put_dec(d[3]);
    put(",\"level\":");
    put_dec(d[4]);
    put(",\"opcode\":");
    put_dec(d[5]);
    put(",\"task\":");
    put_dec(rd16(d + 6));
    put(",\"keyword\":");
    put_hexnum(rd64(d + 8));
  } else {
    put("null");
  }
  put(",\"activity\":");
  if (activity) put_bytes(activity, sizeof *activity);
  else put("null");
  put(",\"related\":");
  if (related) put_bytes(related, sizeof *related);
  else put("null");
  put(",\"count\":");
  put_dec(count);
  put(",\"data_ptr\":");
  put_ptr(user_data);
  put(",\"data\":");
  uint64_t total = 0;
  if (user_data && count <= 128) {
    put("[");
    for (uint32_t i = 0; i < count; i++) {
      const uint8_t *dd = (const uint8_t *)user_data + (size_t)i * EVENT_DATA_DESCRIPTOR_SIZE;
      uint64_t ptr = rd64(dd);
      uint32_t size = rd32(dd + 8);
      if (i) put(",");
      put("{\"ptr\":");
      put_ptr((const void *)(uintptr_t)ptr);
      put(",\"size\":");
      put_dec(size);
      put(",\"type\":");
      put_dec(dd[12]);
      put(",\"reserved1\":");
      put_dec(dd[13]);
      put(",\"reserved2\":");
      put_dec(rd16(dd + 14));
      put(",\"hex\":");
      if (ptr) put_bytes((const void *)(uintptr_t)ptr, size);
      else put("null");
      put("}");
      total += size;
    }
    put("]");
  } else {
    put("null"); /* no array, or more than 128 descriptors: not dereferenced */
  }
  put(",\"total_size\":");
  put_dec(total);
  uint32_t r = result_for(FN_WRITE);
  if (!r && count > 128) r = 87; /* ERROR_INVALID_PARAMETER, as ETW does */
  end(r);
  return r;
}

/* ------------------------------------------------------ control/readback */

static int fn_index(const char *fn) {
  if (!fn) return -1;
  for (int i = 0; i < FN_COUNT; i++)
    if (strcmp(fn, fn_names[i]) == 0) return i;
  return -1;
}

/* What EventProviderEnabled returns from now on (default 0 = FALSE). */
STANDIN_API void standin_set_enabled(uint8_t enabled) { st.enabled = enabled; }

/* The handle EventRegister hands out from now on (default 0x1234). */
STANDIN_API void standin_set_handle(uint64_t handle) { st.next_handle = handle; }

/* Injects a fault into `fn` (e.g. "EventWriteTransfer"): its next `after` calls
 * succeed, then `times` calls return `code` (times 0: every later call), then it
 * succeeds again. Replaces the function's previous fault; code 0 clears it.
 * EventProviderEnabled is driven by standin_set_enabled instead. Returns 0, or -1
 * for an unknown name. */
STANDIN_API int32_t standin_fail(const char *fn, uint32_t code, uint32_t after, uint32_t times) {
  int i = fn_index(fn);
  if (i < 0 || i == FN_ENABLED) return -1;
  st.faults[i].code = code;
  st.faults[i].after = code ? after : 0;
  st.faults[i].times = code ? times : 0;
  return 0;
}

/* Calls of `fn` since the last reset (-1 for an unknown name). */
STANDIN_API int32_t standin_call_count(const char *fn) {
  int i = fn_index(fn);
  return i < 0 ? -1 : (int32_t)st.calls[i];
}

/* Bytes in the text log (excluding any terminator). */
STANDIN_API size_t standin_log_size(void) { return logbuf.len; }

/* Copy up to `cap` bytes of the log into `dst` (no NUL added); returns the count. */
STANDIN_API size_t standin_log_copy(uint8_t *dst, size_t cap) {
  size_t n = logbuf.len < cap ? logbuf.len : cap;
  if (dst && n) memcpy(dst, logbuf.buf, n);
  return dst ? n : 0;
}

/* 1 if a log append ran out of memory since the last clear. */
STANDIN_API uint8_t standin_log_overflowed(void) { return (uint8_t)logbuf.oom; }

/* Empty the log (configuration and counters unchanged). */
STANDIN_API void standin_log_clear(void) {
  logbuf.len = 0;
  logbuf.oom = 0;
  if (logbuf.buf) logbuf.buf[0] = '\0';
}

/* Empty the log and restore every default (enabled 0, handle 0x1234, no faults). */
STANDIN_API void standin_reset(void) {
  standin_log_clear();
  st.enabled = 0;
  st.next_handle = DEFAULT_HANDLE;
  for (int i = 0; i < FN_COUNT; i++) {
    st.faults[i].code = st.faults[i].after = st.faults[i].times = 0;
    st.calls[i] = 0;
  }
  st.seq = 0;
}
