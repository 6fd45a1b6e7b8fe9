// LD_PRELOAD shim for the benchmark: every fsync()/fdatasync() takes FSYNC_DELAY_MS longer (default 10),
// standing in for an SD card whose flush takes milliseconds. Built by the bench with the system C
// compiler (cc -shared -fPIC -O2 -o fsync-delay.so fsync-delay.c -ldl); see bench/lib/bench-sdcard.mjs.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long delay_ns(void) {
  static long ns = -1;
  if (ns < 0) {
    const char *v = getenv("FSYNC_DELAY_MS");
    ns = (v == NULL ? 10L : atol(v)) * 1000000L;
  }
  return ns;
}

static void pause_ns(long ns) {
  struct timespec t = {ns / 1000000000L, ns % 1000000000L};
  while (nanosleep(&t, &t) != 0) {
  }
}

int fsync(int fd) {
  static int (*real)(int) = NULL;
  if (real == NULL) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  int rc = real(fd);
  pause_ns(delay_ns());
  return rc;
}

int fdatasync(int fd) {
  static int (*real)(int) = NULL;
  if (real == NULL) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  int rc = real(fd);
  pause_ns(delay_ns());
  return rc;
}
