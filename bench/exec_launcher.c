/* Stores CLOCK_MONOTONIC in $T0 and execs argv[1..]: the start of the
 * start-to-exec measurement (exec_probe.c is the end). Written in C so the
 * launcher's own exec costs little (a Python launcher adds milliseconds). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  struct timespec ts;
  char buf[32];
  clock_gettime(CLOCK_MONOTONIC, &ts);
  snprintf(buf, sizeof buf, "%lld", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
  setenv("T0", buf, 1);
  execv(argv[1], argv + 1);
  return 127;
}
