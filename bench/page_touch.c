/* What a fresh page costs on this machine: map anonymous memory, write one byte to each 4K
 * page, report microseconds per page. On a VM whose guest pages are not yet backed by the
 * host, this is most of what the C reference (radix_ref.c) spends per fault.
 * Build: cc -O2 -o page_touch page_touch.c ; run: ./page_touch MIB
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
static double now(void) { struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); return ts.tv_sec + ts.tv_nsec * 1e-9; }
int main(int argc, char **argv) {
  long mib = argc > 1 ? atol(argv[1]) : 256;
  size_t bytes = (size_t)mib << 20, pages = bytes >> 12;
  volatile char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return 1;
  double t0 = now();
  for (size_t i = 0; i < pages; i++) p[i << 12] = 1;
  double t1 = now();
  printf("pages=%zu us_per_page=%.3f\n", pages, (t1 - t0) * 1e6 / pages);
  return 0;
}
