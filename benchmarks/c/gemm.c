/* The same OpenBLAS sgemm vugrad calls, from C: the baseline for benchmarks/kernels.ts.
 * usage: gemm N REPS THREADS  -> prints one line "N median_seconds gflops" */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char** argv) {
  if (argc < 4) return 2;
  int n = atoi(argv[1]), reps = atoi(argv[2]), threads = atoi(argv[3]);
  openblas_set_num_threads(threads);
  float* a = malloc(sizeof(float) * n * n);
  float* b = malloc(sizeof(float) * n * n);
  float* c = malloc(sizeof(float) * n * n);
  double* t = malloc(sizeof(double) * reps);
  for (int i = 0; i < n * n; i++) {
    a[i] = (float)((i * 7) % 13) / 13.0f - 0.5f;
    b[i] = (float)((i * 5) % 11) / 11.0f - 0.5f;
  }
  for (int w = 0; w < 3; w++) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
  for (int r = 0; r < reps; r++) {
    double t0 = now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
    t[r] = now() - t0;
  }
  qsort(t, reps, sizeof(double), cmp);
  double med = t[reps / 2];
  printf("%d %.9f %.3f\n", n, med, 2.0 * n * n * n / med / 1e9);
  free(a), free(b), free(c), free(t);
  return 0;
}
