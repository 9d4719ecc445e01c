/* Prints the nanoseconds since $T0 (CLOCK_MONOTONIC, set by the launcher just
 * before it exec'd the supervisor): the supervisor's start-to-exec time. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  const char* t0 = getenv("T0");
  const char* out = getenv("PROBE_OUT");
  if (!t0 || !out) return 2;
  long long now = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
  FILE* f = fopen(out, "w");
  if (!f) return 3;
  fprintf(f, "%lld\n", now - atoll(t0));
  fclose(f);
  return 0;
}
