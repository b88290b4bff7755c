/*
 * The C floor of the null-sink benchmark: the same events the exporter wrote (20-byte
 * user_events header + payload, captured by the benchmark), one writev of one iovec per event
 * to /dev/null, exactly what UserEventsWriter does, without any JavaScript.
 *
 * Built by bench/bench.ts with gcc -O2. Usage: floor <events-file> <passes>
 * events-file: repeated [u32 little-endian length][length bytes].
 * Prints one JSON line: {"events":N,"bytes":B,"wall_ns":[per event, per pass],"cpu_ns":[...]}.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static double now_ns(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s <events-file> <passes>\n", argv[0]);
    return 2;
  }
  int passes = atoi(argv[2]);
  FILE *f = fopen(argv[1], "rb");
  if (!f) {
    perror("fopen");
    return 1;
  }
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *data = malloc((size_t)size);
  if (!data || fread(data, 1, (size_t)size, f) != (size_t)size) {
    fprintf(stderr, "cannot read %s\n", argv[1]);
    return 1;
  }
  fclose(f);

  size_t count = 0, capacity = 1024;
  struct iovec *iov = malloc(capacity * sizeof *iov);
  long long bytes = 0;
  for (long at = 0; at + 4 <= size;) {
    uint32_t length;
    memcpy(&length, data + at, 4);
    at += 4;
    if (at + (long)length > size) {
      fprintf(stderr, "truncated event file\n");
      return 1;
    }
    if (count == capacity) {
      capacity *= 2;
      iov = realloc(iov, capacity * sizeof *iov);
    }
    iov[count].iov_base = data + at;
    iov[count].iov_len = length;
    count++;
    bytes += length;
    at += length;
  }

  int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    perror("open /dev/null");
    return 1;
  }
  for (size_t i = 0; i < count; i++) { /* warm-up pass */
    if (writev(fd, &iov[i], 1) != (ssize_t)iov[i].iov_len) {
      perror("writev");
      return 1;
    }
  }
  printf("{\"events\":%zu,\"bytes\":%lld,\"wall_ns\":[", count, bytes);
  double *cpu = malloc(sizeof(double) * (size_t)(passes > 0 ? passes : 1));
  for (int p = 0; p < passes; p++) {
    double c0 = now_ns(CLOCK_PROCESS_CPUTIME_ID), t0 = now_ns(CLOCK_MONOTONIC);
    for (size_t i = 0; i < count; i++) {
      if (writev(fd, &iov[i], 1) < 0) {
        perror("writev");
        return 1;
      }
    }
    double t1 = now_ns(CLOCK_MONOTONIC), c1 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
    cpu[p] = (c1 - c0) / (double)count;
    printf("%s%.1f", p ? "," : "", (t1 - t0) / (double)count);
  }
  printf("],\"cpu_ns\":[");
  for (int p = 0; p < passes; p++) printf("%s%.1f", p ? "," : "", cpu[p]);
  printf("]}\n");
  close(fd);
  return 0;
}
