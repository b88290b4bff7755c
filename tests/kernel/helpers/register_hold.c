/*
 * register_hold: registers one user_events definition, given byte for byte, and holds the
 * registration until told to exit. Stands in for another exporter's process (the Rust crate,
 * the .NET Geneva exporter) in tests/kernel/registration_kernel_test.ts. Compiled with gcc at
 * test time (inside the VM).
 *
 *   register_hold <definition> [user_events_data path]
 *
 * Registers like the Microsoft libraries do: one 4-byte enable word, bit 0, flags 0. Prints one
 * line, "registered <write_index>" or "error <errno> <strerror>", then (only when registered)
 * reads commands from stdin, one per line, answering each with one line:
 *   write <hex payload>  writes one event in the Rust/.NET layout (index, protocol 0,
 *                        "v0.19.00", rel_loc, payload): "wrote <bytes>" or "error <errno> ..."
 *   enabled              "enabled <enable word>"
 *   exit (or EOF)        unregisters, closes, exits 0 ("bye")
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

/* include/uapi/linux/user_events.h (not in every distribution's headers yet) */
struct user_reg {
  uint32_t size;
  uint8_t enable_bit;
  uint8_t enable_size;
  uint16_t flags;
  uint64_t enable_addr;
  uint64_t name_args;
  uint32_t write_index;
} __attribute__((__packed__));
struct user_unreg {
  uint32_t size;
  uint8_t disable_bit;
  uint8_t __reserved;
  uint16_t __reserved2;
  uint64_t disable_addr;
} __attribute__((__packed__));
#define DIAG_IOCSREG _IOWR('*', 0, struct user_reg *)
#define DIAG_IOCSUNREG _IOW('*', 2, struct user_unreg *)

/* The kernel sets bit 0 while a listener is attached; never moves, never freed. */
static volatile uint32_t enable_word;

static void report_error(const char *what) {
  int e = errno;
  printf("error %d %s: %s\n", e, what, strerror(e));
  fflush(stdout);
}

static int hex_value(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: %s <definition> [user_events_data path]\n", argv[0]);
    return 2;
  }
  const char *path = argc == 3 ? argv[2] : "/sys/kernel/tracing/user_events_data";
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    report_error("open");
    return 1;
  }
  struct user_reg reg = {0};
  reg.size = sizeof reg;
  reg.enable_bit = 0;
  reg.enable_size = sizeof enable_word;
  reg.enable_addr = (uint64_t)(uintptr_t)&enable_word;
  reg.name_args = (uint64_t)(uintptr_t)argv[1];
  if (ioctl(fd, DIAG_IOCSREG, &reg) < 0) {
    report_error("DIAG_IOCSREG");
    return 1;
  }
  printf("registered %u\n", reg.write_index);
  fflush(stdout);

  char line[2 * 4096 + 64];
  static uint8_t payload[4096];
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\r\n")] = '\0';
    if (strncmp(line, "write ", 6) == 0) {
      size_t n = 0;
      const char *h = line + 6;
      while (h[0] && h[1] && n < sizeof payload) {
        int hi = hex_value(h[0]), lo = hex_value(h[1]);
        if (hi < 0 || lo < 0) break;
        payload[n++] = (uint8_t)(hi << 4 | lo);
        h += 2;
      }
      uint32_t index = reg.write_index, protocol = 0, rel_loc = (uint32_t)n << 16;
      struct iovec iov[5] = {
        {&index, 4}, {&protocol, 4}, {"v0.19.00", 8}, {&rel_loc, 4}, {payload, n},
      };
      ssize_t written = writev(fd, iov, 5);
      if (written < 0) report_error("writev");
      else {
        printf("wrote %zd\n", written);
        fflush(stdout);
      }
    } else if (strcmp(line, "enabled") == 0) {
      printf("enabled %u\n", enable_word);
      fflush(stdout);
    } else if (strcmp(line, "exit") == 0) {
      break;
    } else {
      printf("error 0 unknown command: %s\n", line);
      fflush(stdout);
    }
  }
  struct user_unreg unreg = {0};
  unreg.size = sizeof unreg;
  unreg.disable_bit = 0;
  unreg.disable_addr = (uint64_t)(uintptr_t)&enable_word;
  if (ioctl(fd, DIAG_IOCSUNREG, &unreg) < 0) {
    report_error("DIAG_IOCSUNREG");
    return 1;
  }
  close(fd);
  printf("bye\n");
  fflush(stdout);
  return 0;
}
