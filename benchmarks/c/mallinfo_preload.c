/*
 * glibc malloc's own account, on demand, for benchmarks/rss-probe.ts (issue 20: where the memory workload's RSS
 * goes). Node cannot call mallinfo2(), so this library is preloaded and wraps getrusage(2), which node calls for
 * process.resourceUsage() (through libuv): each call also writes one line of mallinfo2() (summed over all arenas) to the file named by
 * $VUGRAD_MALLINFO_OUT, in bytes: arena (heap bytes from sbrk/arenas), hblkhd (bytes in mmapped blocks),
 * uordblks (in use), fordblks (free but kept), keepcost (releasable at the top of the main heap).
 *
 *   gcc -O2 -shared -fPIC -o /tmp/mallinfo_preload.so benchmarks/c/mallinfo_preload.c -ldl
 *   LD_PRELOAD=/tmp/mallinfo_preload.so VUGRAD_MALLINFO_OUT=/tmp/mi.txt node ... benchmarks/rss-probe.ts --mallinfo
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

int getrusage(int who, struct rusage* usage) {
  static int (*real)(int, struct rusage*) = NULL;
  if (!real) real = (int (*)(int, struct rusage*))dlsym(RTLD_NEXT, "getrusage");
  const char* out = getenv("VUGRAD_MALLINFO_OUT");
  if (out) {
    struct mallinfo2 m = mallinfo2();
    FILE* f = fopen(out, "w");
    if (f) {
      fprintf(f, "%zu %zu %zu %zu %zu\n", m.arena, m.hblkhd, m.uordblks, m.fordblks, m.keepcost);
      fclose(f);
    }
  }
  return real(who, usage);
}
