/*
 * The machine's fp32 FMA peak, measured: a register-blocked loop of independent vector FMAs (AVX-512 when the
 * compiler targets it, else AVX2 + FMA, else scalar), on 1 and on N threads. benchmarks/bench.ts compiles it at
 * run time (gcc -O2 -march=native -pthread) and divides each workload's effective GFLOP/s by it.
 *
 *   fma_peak [threads=2] [seconds=0.25] [tries=3]
 * prints one line: "<isa> <lanes> <GFLOP/s on 1 thread> <GFLOP/s on N threads> <N>" (best of the tries; a FMA
 * counts 2 FLOPs per lane).
 */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifndef ACC
#define ACC 12 /* independent accumulators: covers FMA latency (4) x throughput (2 per cycle) with room */
#endif
#define INNER 1000

#if defined(__AVX512F__)
typedef __m512 vec;
#define LANES 16
#define ISA "avx512"
#define SET1(x) _mm512_set1_ps(x)
#define FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
static float hsum(vec v) { return _mm512_reduce_add_ps(v); }
#elif defined(__AVX2__) && defined(__FMA__)
typedef __m256 vec;
#define LANES 8
#define ISA "avx2"
#define SET1(x) _mm256_set1_ps(x)
#define FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
static float hsum(vec v) {
  float t[8];
  _mm256_storeu_ps(t, v);
  return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}
#else
typedef float vec;
#define LANES 1
#define ISA "scalar"
#define SET1(x) (x)
#define FMA(a, b, c) ((a) * (b) + (c))
static float hsum(vec v) { return v; }
#endif

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct {
  double seconds;
  double flops;
  float sink;
} job;

static void *worker(void *arg) {
  job *j = (job *)arg;
  vec acc[ACC];
  for (int i = 0; i < ACC; i++) acc[i] = SET1(0.001f * (float)i);
  const vec a = SET1(0.999999f), b = SET1(1e-7f);
  long outer = 0;
  const double t0 = now();
  double t;
  do {
    for (int r = 0; r < INNER; r++) {
#pragma GCC unroll 32
      for (int i = 0; i < ACC; i++) acc[i] = FMA(acc[i], a, b);
    }
    outer++;
    t = now();
  } while (t - t0 < j->seconds);
  float s = 0;
  for (int i = 0; i < ACC; i++) s += hsum(acc[i]);
  j->sink = s;
  j->flops = (double)outer * INNER * ACC * LANES * 2.0;
  j->seconds = t - t0;
  return NULL;
}

/* GFLOP/s of n threads running at once (sum of each thread's rate). */
static double measure(int n, double seconds) {
  pthread_t th[64];
  job jobs[64];
  for (int i = 0; i < n; i++) {
    jobs[i].seconds = seconds;
    pthread_create(&th[i], NULL, worker, &jobs[i]);
  }
  double total = 0;
  for (int i = 0; i < n; i++) {
    pthread_join(th[i], NULL);
    total += jobs[i].flops / jobs[i].seconds / 1e9;
  }
  return total;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 2;
  double seconds = argc > 2 ? atof(argv[2]) : 0.25;
  int tries = argc > 3 ? atoi(argv[3]) : 3;
  if (n < 1) n = 1;
  if (n > 64) n = 64;
  double best1 = 0, bestN = 0;
  for (int t = 0; t < tries; t++) {
    double g1 = measure(1, seconds);
    double gn = n == 1 ? g1 : measure(n, seconds);
    if (g1 > best1) best1 = g1;
    if (gn > bestN) bestN = gn;
  }
  printf("%s %d %.1f %.1f %d\n", ISA, LANES, best1, bestN, n);
  return 0;
}
