/* The benchmarks' summary of repeated timings: the median of n values (sorting v in place, so
 * v[0] and v[n - 1] are then the minimum and maximum). */
#ifndef MYR_BENCH_MEDIAN_H
#define MYR_BENCH_MEDIAN_H

#include <stdlib.h>

static int myr_bench_compare_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static inline double myr_bench_median(double *v, long long n) {
  qsort(v, (size_t)n, sizeof *v, myr_bench_compare_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

#endif
